"""QC checklists: the definition files, their loader and validator, and the disposition rules.

Imports nothing from ``sync``, ``labels`` or ``terminal``.
"""

from qc_checklists.checklist import (
    DEFAULT_RULES,
    NOT_APPLICABLE,
    Checklist,
    Choice,
    Disposition,
    Item,
    Kind,
    Rule,
    Severity,
)
from qc_checklists.disposition import FAIL, PASS, AnswerError, Finding, Suggestion, judge, suggest
from qc_checklists.library import FALLBACK, ChecklistUnavailable, Library, load_library, standard_folder
from qc_checklists.loader import ChecklistInvalid, Problem, check_file, check_text, load_checklist
from qc_checklists.routing import Channel, Facts, Routed, RoutingRule, RoutingRules, route
from qc_checklists.routing_loader import RoutingInvalid, check_routing_file, load_routing, standard_routing_file

__all__ = [
    "DEFAULT_RULES",
    "FAIL",
    "FALLBACK",
    "NOT_APPLICABLE",
    "PASS",
    "AnswerError",
    "Channel",
    "Checklist",
    "ChecklistInvalid",
    "ChecklistUnavailable",
    "Choice",
    "Disposition",
    "Facts",
    "Finding",
    "Item",
    "Kind",
    "Library",
    "Problem",
    "Routed",
    "RoutingInvalid",
    "RoutingRule",
    "RoutingRules",
    "Rule",
    "Severity",
    "Suggestion",
    "check_file",
    "check_routing_file",
    "check_text",
    "judge",
    "load_checklist",
    "load_library",
    "load_routing",
    "route",
    "standard_folder",
    "standard_routing_file",
    "suggest",
]
