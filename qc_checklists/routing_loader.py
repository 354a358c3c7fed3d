"""Reading a routing rule file: YAML in, validated :class:`RoutingRules` or every problem with its line.

The same safe YAML subset and the same ``file:line: reason`` problems as the
checklists (:mod:`qc_checklists.loader` reads the node tree); a file with any
problem is refused whole.  Given the checklists, the item ids a rule names
are checked against them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from gettext import gettext as _
from pathlib import Path

import yaml

from qc_checklists.checklist import Checklist, Disposition
from qc_checklists.loader import ID_PATTERN, MAX_BYTES, ChecklistInvalid, Node, Problem, _Reader
from qc_checklists.routing import Channel, RoutingRule, RoutingRules, normal

MAX_RULES = 200
MAX_BIN = 24  # printed on a 4×3 in label, read from a step away
TOP_KEYS = {"routing", "title", "version", "bins", "rules", "default"}
LIST_MATCHERS = {"grade", "category", "reason", "reason_contains", "failed", "passed"}
NUMBER_MATCHERS = {"value_at_least", "value_below"}
RULE_KEYS = LIST_MATCHERS | NUMBER_MATCHERS | {"then", "bin", "because", "zh-CN"}
CHANNELS = ", ".join(c.value for c in Channel)


class RoutingInvalid(ChecklistInvalid):
    """A routing rule file has problems; ``problems`` lists every one."""


def standard_routing_file() -> Path:
    """The routing rules shipped with the station."""
    return Path(__file__).parent / "routing.yaml"


def check_routing_file(
    path: str | Path, checklists: Mapping[str, Checklist] | None = None
) -> tuple[RoutingRules | None, list[Problem]]:
    """Read and validate one routing rule file: the rules if valid, and every problem."""
    path = Path(path)
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [Problem(shown, 1, _("file is too large ({size} bytes)").format(size=size))]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(shown, 0, _("no such file"))]
    except IsADirectoryError:
        return None, [Problem(shown, 0, _("is a folder, not a routing rule file"))]
    except OSError as exc:
        return None, [Problem(shown, 0, _("cannot read: {reason}").format(reason=exc.strerror))]
    return check_routing_text(raw, shown, checklists)


def check_routing_text(
    raw: bytes | str, path: str = "<text>", checklists: Mapping[str, Checklist] | None = None
) -> tuple[RoutingRules | None, list[Problem]]:
    """Validate routing rule YAML given as bytes or text (see :func:`check_routing_file`)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            return None, [Problem(path, line, _("not UTF-8 text; save the file as UTF-8"))]
    else:
        text = raw
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return None, [Problem(path, 1, _("file is empty; routing rules need 'routing', 'rules' and 'default'"))]
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, [
            Problem(path, mark.line + 1 if mark else 1, _("not valid YAML: {why}").format(why=exc.problem or exc))
        ]
    except (yaml.YAMLError, RecursionError) as exc:
        return None, [Problem(path, 1, _("not valid YAML: {why}").format(why=type(exc).__name__))]
    if len(documents) != 1:
        return None, [Problem(path, 1, _("a routing file holds one document, not {n}").format(n=len(documents)))]
    reader = _Reader(path)
    try:
        root = reader.convert(documents[0])
    except RecursionError:
        return None, [Problem(path, 1, _("values nested too deeply"))]
    rules = _Validator(reader, checklists).rule_set(root)
    if reader.problems or rules is None:
        return None, sorted(reader.problems, key=lambda p: p.line)
    return rules, []


def load_routing(path: str | Path | None = None, checklists: Mapping[str, Checklist] | None = None) -> RoutingRules:
    """The routing rules in ``path`` (default: the standard ones); :class:`RoutingInvalid` with every problem."""
    rules, problems = check_routing_file(path if path is not None else standard_routing_file(), checklists)
    if problems or rules is None:
        raise RoutingInvalid(problems)
    return rules


class _Validator:
    """The rules a routing file must follow; every broken one becomes a problem."""

    def __init__(self, reader: _Reader, checklists: Mapping[str, Checklist] | None):
        self.r = reader
        self.checklists = checklists

    def problem(self, line: int, reason: str) -> None:
        self.r.problem(line, reason)

    def rule_set(self, root: Node) -> RoutingRules | None:
        if not isinstance(root.value, dict):
            self.problem(root.line, _("routing rules are 'key: value' lines (routing, rules, default)"))
            return None
        top: dict[str, Node] = root.value
        for key in top:
            if key not in TOP_KEYS:
                self.problem(
                    root.key_lines[key],
                    _("unknown key '{key}'; known: {known}").format(key=key, known=", ".join(sorted(TOP_KEYS))),
                )
        routing_id = None
        if "routing" not in top:
            self.problem(root.line, _("missing 'routing' (the rule set's name, e.g. routing: standard)"))
        elif not isinstance(top["routing"].value, str) or not ID_PATTERN.match(top["routing"].value):
            self.problem(top["routing"].line, _("'routing' must be lower-case letters, digits and _"))
        else:
            routing_id = top["routing"].value
        title = top["title"].value if "title" in top and isinstance(top["title"].value, str) else routing_id or ""
        version = 1
        if "version" in top:
            node = top["version"]
            if isinstance(node.value, bool) or not isinstance(node.value, int) or node.value < 1:
                self.problem(node.line, _("version must be a whole number ≥ 1"))
            else:
                version = node.value
        default = None
        if "default" not in top:
            self.problem(
                root.line,
                _("missing 'default' (the channel of a unit no rule matches: {channels})").format(channels=CHANNELS),
            )
        else:
            default = self.channel(top["default"])
        bins = self.bins(top["bins"]) if "bins" in top else ()
        rules: list[RoutingRule] = []
        if "rules" not in top:
            self.problem(root.line, _("missing 'rules' (a list of '- then: <channel>' with conditions)"))
        elif not isinstance(top["rules"].value, list):
            self.problem(top["rules"].line, _("'rules' must be a list ('- then: restock' ...)"))
        elif len(top["rules"].value) > MAX_RULES:
            self.problem(
                top["rules"].line, _("{n} rules; at most {most}").format(n=len(top["rules"].value), most=MAX_RULES)
            )
        else:
            rules = [r for r in (self.rule(entry) for entry in top["rules"].value) if r is not None]
        if routing_id is None or default is None:
            return None
        return RoutingRules(routing_id, " ".join(str(title).split()), version, tuple(rules), default, bins, self.r.path)

    def channel(self, node: Node) -> Channel | None:
        try:
            return Channel(node.value)
        except ValueError:
            self.problem(
                node.line, _("unknown channel {value!r}; use {channels}").format(value=node.value, channels=CHANNELS)
            )
            return None

    def bin_name(self, node: Node) -> str | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            self.problem(node.line, _("a bin is a name as printed on its label, e.g. B-GRADE"))
            return None
        text = " ".join(str(value).split())
        if len(text) > MAX_BIN:
            self.problem(node.line, _("bin '{bin}' is longer than {most} characters").format(bin=text, most=MAX_BIN))
            return None
        return text

    def bins(self, node: Node) -> tuple[tuple[Channel, str], ...]:
        if not isinstance(node.value, dict):
            self.problem(node.line, _("'bins' is one 'channel: bin' line per channel"))
            return ()
        out = []
        for key, value in node.value.items():
            channel = self.channel(Node(key, node.key_lines.get(key, value.line)))
            name = self.bin_name(value)
            if channel is not None and name is not None:
                out.append((channel, name))
        return tuple(out)

    def words(self, node: Node, key: str) -> list[Node]:
        """A matcher's value as a list of nodes (one value may stand alone)."""
        items = node.value if isinstance(node.value, list) else [node]
        if not items:
            self.problem(node.line, _("'{key}' names nothing").format(key=key))
        for item in items:
            if isinstance(item.value, bool) or not isinstance(item.value, (str, int)) or not str(item.value).strip():
                self.problem(item.line, _("'{key}' takes text, not {value!r}").format(key=key, value=item.value))
        return [i for i in items if isinstance(i.value, (str, int)) and not isinstance(i.value, bool)]

    def rule(self, node: Node) -> RoutingRule | None:
        if not isinstance(node.value, dict):
            self.problem(node.line, _("a rule is 'key: value' lines ('then' and its conditions)"))
            return None
        data: dict[str, Node] = node.value
        ok = len(self.r.problems)
        for key in data:
            if key not in RULE_KEYS:
                self.problem(
                    node.key_lines[key],
                    _("unknown rule key '{key}'; a rule has 'then' and any of: {known}").format(
                        key=key, known=", ".join(sorted(LIST_MATCHERS | NUMBER_MATCHERS))
                    ),
                )
        then = None
        if "then" not in data:
            self.problem(node.line, _("a rule needs 'then' (a channel: {channels})").format(channels=CHANNELS))
        else:
            then = self.channel(data["then"])
        lists: dict[str, tuple[str, ...]] = {}
        categories: list[str] = []
        for key in sorted(LIST_MATCHERS & set(data), key=lambda k: k != "category"):  # category first
            nodes = self.words(data[key], key)
            values = [str(v.value).strip() for v in nodes]
            if key == "grade":
                known = [d.value for d in Disposition]
                for v in nodes:
                    if str(v.value) not in known:
                        self.problem(
                            v.line,
                            _("unknown grade {value!r}; use {grades}").format(value=v.value, grades=", ".join(known)),
                        )
            elif key == "category":
                values = categories = [v.lower() for v in values]
                for v in nodes:
                    if not ID_PATTERN.match(str(v.value).strip().lower()):
                        self.problem(v.line, _("category {value!r} is not a category name").format(value=v.value))
            elif key in ("reason", "reason_contains"):
                values = [normal(v) for v in values]
            else:
                for v in nodes:
                    self.check_item(v, categories)
            lists[key] = tuple(values)
        numbers: dict[str, float] = {}
        for key in NUMBER_MATCHERS & set(data):
            value = data[key].value
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
                self.problem(
                    data[key].line, _("'{key}' must be a number ≥ 0, not {value!r}").format(key=key, value=value)
                )
            else:
                numbers[key] = float(value)
        bin_name = self.bin_name(data["bin"]) if "bin" in data else ""
        because = ""
        if "because" in data:
            if not isinstance(data["because"].value, str) or not data["because"].value.strip():
                self.problem(data["because"].line, _("'because' must be text"))
            else:
                because = " ".join(data["because"].value.split())[:200]
        because_texts: tuple[tuple[str, str], ...] = ()
        if "zh-CN" in data:  # the rule's because in Chinese: `zh-CN: {because: ...}`, as in checklists
            block = data["zh-CN"].value
            text = block.get("because") if isinstance(block, dict) and set(block) <= {"because"} else None
            if text is None or not isinstance(text.value, str) or not text.value.strip() or not because:
                self.problem(data["zh-CN"].line, _("'zh-CN' in a rule is 'because: text', beside an English 'because'"))
            else:
                because_texts = (("zh-CN", " ".join(text.value.split())[:200]),)
        if len(self.r.problems) > ok or then is None:
            return None
        return RoutingRule(
            then,
            grades=tuple(Disposition(g) for g in lists.get("grade", ())),
            categories=lists.get("category", ()),
            reasons=lists.get("reason", ()),
            reason_contains=lists.get("reason_contains", ()),
            failed=lists.get("failed", ()),
            passed=lists.get("passed", ()),
            value_at_least=numbers.get("value_at_least"),
            value_below=numbers.get("value_below"),
            bin=bin_name or "",
            because=because,
            line=node.line,
            because_texts=because_texts,
        )

    def check_item(self, node: Node, categories: list[str]) -> None:
        """An item id a rule names must be a judged item of a checklist (of the rule's categories, if it names any)."""
        item_id = str(node.value).strip()
        if not ID_PATTERN.match(item_id):
            self.problem(node.line, _("item id {value!r} is not an item id").format(value=node.value))
            return
        if self.checklists is None:
            return
        lists = (
            [self.checklists.get(c) or self.checklists.get("general") for c in categories]
            if categories
            else list(self.checklists.values())
        )
        items = [i for checklist in lists if checklist is not None for i in checklist.items if i.id == item_id]
        if not items:
            self.problem(
                node.line,
                _("rule names item '{item}', which is on no checklist{of}").format(
                    item=item_id,
                    of=_(" of {categories}").format(categories=", ".join(categories)) if categories else "",
                ),
            )
        elif not any(i.kind.judged for i in items):
            self.problem(node.line, _("rule names '{item}', an item that never fails").format(item=item_id))
