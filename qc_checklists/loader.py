"""Reading checklist files: YAML in, a validated :class:`Checklist` or every problem with its line.

Why YAML (PyYAML) and not TOML: a checklist is a list of items with prompts,
which YAML writes as a plain indented list a QC lead can read and edit; TOML
would need ``[[items]]`` tables and gives no line numbers for problems found
after parsing.  PyYAML's node tree keeps the line of every key and value, so
each problem is reported as ``file:line: reason``.  Only the safe subset is
used: plain mappings, lists and scalars — no tags, no aliases (which also
rules out "billion laughs" files), no duplicate keys.

A file is either entirely valid or rejected: :func:`check_file` returns the
checklist only when there is not a single problem.

A second language is a block keyed by its tag (``zh-CN:``) beside the English
text it translates — in an item (``prompt``, ``help``, ``choices`` as
``english answer: its text``), at the top (``title``) and in a rule
(``because``).  Once any text of a file has a language, every text an
inspector reads must have it, so a station never shows half a checklist in
one language and half in the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from gettext import gettext as _
from pathlib import Path

import yaml

from qc_checklists.checklist import (
    DEFAULT_RULES,
    LANGUAGES,
    Checklist,
    Choice,
    Disposition,
    Item,
    ItemText,
    Kind,
    Rule,
    Severity,
)

MAX_BYTES = 256 * 1024  # a real checklist is a few KiB
MAX_ITEMS = 60  # more than a person works through at a bench
MAX_CHOICES = 9  # one digit key each
MAX_PROMPT = 200
SUFFIXES = (".yaml", ".yml")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

TOP_KEYS = {"checklist", "title", "version", "items", "rules", *LANGUAGES}
ITEM_KEYS = {
    *LANGUAGES,
    "id",
    "kind",
    "prompt",
    "severity",
    "photo_required_on_fail",
    "optional",
    "tests_claim",
    "help",
    "choices",
    "unit",
    "min",
    "max",
}
RULE_CONDITIONS = {f"{s.value}_fails_{how}" for s in Severity for how in ("at_least", "more_than")} | {"any_failed"}
RULE_KEYS = RULE_CONDITIONS | {"then", "because", *LANGUAGES}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a checklist file, where it is and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class ChecklistInvalid(Exception):
    """A checklist file has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Node:
    """A YAML value with the line it starts on (1-based)."""

    value: object  # dict[str, Node] | list[Node] | scalar
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)


# The tags YAML gives plain values by itself; any other tag was written into the file.
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


class _Reader:
    """Turns PyYAML's node tree into :class:`Node` values, collecting problems."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []
        self._seen: set[int] = set()
        self._refused_tags: set[int] = set()  # lines of refused tags
        self._scalars = yaml.SafeLoader("")  # only its scalar constructors are used

    def problem(self, line: int, reason: str) -> None:
        if line in self._refused_tags:
            return  # the tag is the problem there; what its missing value breaks would only repeat it
        self.problems.append(Problem(self.path, line, reason))

    def convert(self, node: yaml.Node) -> Node:
        line = node.start_mark.line + 1
        if id(node) in self._seen:
            # compose() resolves an alias to the very node its anchor names
            self.problem(line, _("aliases (*name) are not allowed in checklists; write the value out"))
            return Node(None, line)
        self._seen.add(id(node))
        if node.tag not in PLAIN_TAGS:
            # an explicit tag (!!python/object, !custom): refused before anything is built from it
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(
                line,
                _(
                    "tag {tag} is not allowed; a checklist holds plain text, numbers, lists and 'key: value' lines"
                ).format(tag=tag.split(":")[0] if tag.startswith("!!") else tag),
            )
            self._refused_tags.add(line)
            return Node(None, line)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Node] = {}
            lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problem(key_line, _("a key must be a plain word"))
                    continue
                key = str(key_node.value)
                if key in out:
                    self.problem(
                        key_line, _("duplicate key '{key}' (first on line {first})").format(key=key, first=lines[key])
                    )
                    continue
                out[key] = self.convert(value_node)
                out[key].line = key_line  # a list or mapping under a key is reported at its key
                lines[key] = key_line
            return Node(out, line, lines)
        if isinstance(node, yaml.SequenceNode):
            return Node([self.convert(v) for v in node.value], line)
        try:
            value = self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problem(line, _("unreadable value: {error}").format(error=getattr(exc, "problem", exc)))
            value = None
        return Node(value, line)


def check_file(path: str | Path) -> tuple[Checklist | None, list[Problem]]:
    """Read and validate one checklist file: the checklist if it is valid, and every problem."""
    path = Path(path)
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [
                Problem(
                    shown,
                    1,
                    _("file is too large ({size} bytes; a checklist may have at most {most} KiB)").format(
                        size=size, most=MAX_BYTES // 1024
                    ),
                )
            ]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(shown, 0, _("no such file"))]
    except IsADirectoryError:
        return None, [Problem(shown, 0, _("is a folder, not a checklist file"))]
    except OSError as exc:
        return None, [Problem(shown, 0, _("cannot read: {error}").format(error=exc.strerror))]
    return check_text(raw, shown, expected_id=path.stem)


def check_text(
    raw: bytes | str, path: str = "<text>", expected_id: str | None = None
) -> tuple[Checklist | None, list[Problem]]:
    """Validate checklist YAML given as bytes or text (see :func:`check_file`)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            return None, [
                Problem(
                    path,
                    1,
                    _("file is too large ({count} bytes; at most {most} KiB)").format(
                        count=len(raw), most=MAX_BYTES // 1024
                    ),
                )
            ]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            return None, [Problem(path, line, _("not UTF-8 text; save the file as UTF-8"))]
    else:
        text = raw
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return None, [Problem(path, 1, _("file is empty; a checklist needs 'checklist', 'title' and 'items'"))]
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(path, line, _("not valid YAML: {error}").format(error=exc.problem or exc.context))]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, _("not valid YAML: {error}").format(error=exc))]
    except RecursionError:
        return None, [Problem(path, 1, _("values nested too deeply; a checklist is items with a few keys each"))]
    if len(documents) != 1:
        return None, [
            Problem(path, 1, _("a checklist file holds one document, not {count} ('---')").format(count=len(documents)))
        ]
    reader = _Reader(path)
    try:
        root = reader.convert(documents[0])
    except RecursionError:
        return None, [Problem(path, 1, _("values nested too deeply; a checklist is items with a few keys each"))]
    checklist = _Validator(reader, expected_id).checklist(root)
    if reader.problems:
        return None, sorted(reader.problems, key=lambda p: p.line)
    return checklist, []


def load_checklist(path: str | Path) -> Checklist:
    """The checklist in ``path``; raises :class:`ChecklistInvalid` with every problem."""
    checklist, problems = check_file(path)
    if problems or checklist is None:  # check_file gives a checklist exactly when there are no problems
        raise ChecklistInvalid(problems)
    return checklist


class _Validator:
    """The rules a checklist file must follow; every broken one becomes a problem."""

    def __init__(self, reader: _Reader, expected_id: str | None):
        self.r = reader
        self.expected_id = expected_id
        self.declared: set[str] = set()  # item ids written in the file, valid items or not
        self.languages: dict[str, int] = {}  # language -> the first line a block of it is on

    def problem(self, line: int, reason: str) -> None:
        self.r.problem(line, reason)

    def checklist(self, root: Node) -> Checklist | None:
        if not isinstance(root.value, dict):
            self.problem(root.line, _("a checklist is a set of 'key: value' lines (checklist, title, items, rules)"))
            return None
        top: dict[str, Node] = root.value
        for key in top:
            if key not in TOP_KEYS:
                self.problem(
                    root.key_lines[key],
                    _("unknown key '{key}'; known: {known}").format(key=key, known=", ".join(sorted(TOP_KEYS))),
                )
        checklist_id = self.identifier(top, root, "checklist", "checklist id")
        if checklist_id and self.expected_id and checklist_id != self.expected_id:
            self.problem(
                top["checklist"].line,
                _(
                    "checklist '{checklist_id}' is in a file named '{expected_id}'; the file must be named "
                    "{checklist_id}.yaml"
                ).format(checklist_id=checklist_id, expected_id=self.expected_id),
            )
        title = self.text(top, root, "title", required=False) or checklist_id or ""
        version = 1
        if "version" in top:
            node = top["version"]
            if isinstance(node.value, bool) or not isinstance(node.value, int) or node.value < 1:
                self.problem(node.line, _("version must be a whole number ≥ 1"))
            else:
                version = node.value
        titles: dict[str, str] = {}
        top_blocks = self.blocks(top, ("title",))
        for lang, (block, line) in top_blocks.items():
            if "title" not in block:
                self.problem(line, _("missing 'title' in {lang}").format(lang=lang))
            elif "title" not in top:
                self.problem(
                    block["title"].line,
                    _("{lang} 'title' translates nothing: the checklist has no 'title'").format(lang=lang),
                )
            else:
                titles[lang] = self.text(block, root, "title", required=True) or ""
        items = self.items(top, root)
        known = {i.id: i for i in items}
        rules: Sequence[Rule]
        if "rules" in top:
            rules = self.rules(top["rules"], known)
            rules_are_default = False
        else:
            rules, rules_are_default = DEFAULT_RULES, True
        self.complete(top, root, items, rules, titles)
        if checklist_id is None:
            return None
        return Checklist(
            checklist_id,
            title,
            version,
            tuple(items),
            tuple(rules),
            self.r.path,
            rules_are_default,
            titles=tuple((lang, titles[lang]) for lang in LANGUAGES if lang in titles),
        )

    # -- second languages ------------------------------------------------------

    def blocks(self, data: dict[str, Node], allowed: tuple[str, ...]) -> dict[str, tuple[dict[str, Node], int]]:
        """The language blocks of a mapping (language -> its keys and line); a malformed one is a problem."""
        found: dict[str, tuple[dict[str, Node], int]] = {}
        for lang in LANGUAGES:
            if lang not in data:
                continue
            node = data[lang]
            self.languages.setdefault(lang, node.line)
            if not isinstance(node.value, dict) or not node.value:
                self.problem(
                    node.line,
                    _("'{lang}' must be 'key: text' lines ({keys})").format(lang=lang, keys=", ".join(allowed)),
                )
                continue
            for key in node.value:
                if key not in allowed:
                    self.problem(
                        node.key_lines[key],
                        _("unknown key '{key}' in {lang}; known: {keys}").format(
                            key=key, lang=lang, keys=", ".join(allowed)
                        ),
                    )
            found[lang] = (node.value, node.line)
        return found

    def item_texts(
        self, data: dict[str, Node], node: Node, item_id: str, kind: Kind, choices: tuple[Choice, ...]
    ) -> list[tuple[str, ItemText]]:
        """An item's words in each language it has a block for."""
        texts = []
        for lang, (block, line) in self.blocks(data, ("prompt", "help", "choices")).items():
            prompt = help_text = None
            if "prompt" not in block:
                self.problem(line, _("missing 'prompt' in {lang}").format(lang=lang))
            else:
                prompt = self.text(block, node, "prompt", required=True, limit=MAX_PROMPT)
            if "help" in data and "help" not in block:
                self.problem(
                    line,
                    _("missing {lang} 'help' (the English 'help' is on line {line})").format(
                        lang=lang, line=data["help"].line
                    ),
                )
            elif "help" in block and "help" not in data:
                self.problem(
                    block["help"].line,
                    _("{lang} 'help' translates nothing: the item has no English 'help'").format(lang=lang),
                )
            elif "help" in block:
                help_text = self.text(block, node, "help", required=True)
            labels = self.choice_texts(block, line, lang, item_id, kind, choices)
            if prompt is not None:
                texts.append((lang, ItemText(prompt, help_text or "", labels)))
        return texts

    def choice_texts(
        self, block: dict[str, Node], line: int, lang: str, item_id: str, kind: Kind, choices: tuple[Choice, ...]
    ) -> tuple[str, ...]:
        """The choices' labels in ``lang``, in the order of ``choices`` (every answer has one, no two alike)."""
        if kind != Kind.CHOICE:
            if "choices" in block:
                self.problem(
                    block["choices"].line,
                    _("'choices' in {lang} belongs to choice items, not {kind}").format(lang=lang, kind=kind.value),
                )
            return ()
        if "choices" not in block:
            self.problem(
                line, _("missing {lang} 'choices' (a text for each answer: 'english answer: text')").format(lang=lang)
            )
            return ()
        node = block["choices"]
        if not isinstance(node.value, dict):
            self.problem(node.line, _("{lang} 'choices' must be 'english answer: text' lines").format(lang=lang))
            return ()
        english = [c.label for c in choices]
        shown: dict[str, str] = {}
        for label, text in node.value.items():
            if label not in english:
                self.problem(
                    node.key_lines[label],
                    _("{lang} choice '{label}' is not an answer of '{item}' (answers: {answers})").format(
                        lang=lang, label=label, item=item_id, answers=", ".join(english)
                    ),
                )
            elif not isinstance(text.value, str) or not text.value.strip():
                self.problem(
                    text.line, _("{lang} text of choice '{label}' must be text").format(lang=lang, label=label)
                )
            else:
                words = " ".join(text.value.split())
                twin = next((other for other, seen in shown.items() if seen == words), None)
                if twin is not None:
                    self.problem(
                        text.line,
                        _("{lang} choices '{one}' and '{other}' are both '{text}'").format(
                            lang=lang, one=twin, other=label, text=words
                        ),
                    )
                shown[label] = words
        for label in english:
            if label not in node.value:
                self.problem(node.line, _("no {lang} text for choice '{label}'").format(lang=lang, label=label))
        return tuple(shown.get(label, label) for label in english)

    def complete(
        self,
        top: dict[str, Node],
        root: Node,
        items: list[Item],
        rules: Sequence[Rule],
        titles: dict[str, str],
    ) -> None:
        """Once a text has a language, every text the inspector reads has it."""
        for lang, first in self.languages.items():
            for item in items:
                if lang not in dict(item.texts):
                    self.problem(
                        item.line,
                        _(
                            "item '{item}' has no {lang} prompt (this checklist has {lang} texts, the first on line "
                            "{first}); add '{lang}:' with its 'prompt'"
                        ).format(item=item.id, lang=lang, first=first),
                    )
            if "title" in top and lang not in top:  # (a block of it that is broken is reported already)
                self.problem(
                    root.line,
                    _("missing {lang} 'title' (the items have {lang} texts); add '{lang}: {{title: ...}}'").format(
                        lang=lang
                    ),
                )
            for rule in rules:
                if rule.because and lang not in dict(rule.because_texts):
                    self.problem(
                        rule.line, _("missing {lang} 'because' (the items have {lang} texts)").format(lang=lang)
                    )

    # -- scalars -------------------------------------------------------------

    def identifier(self, mapping: dict[str, Node], parent: Node, key: str, what: str) -> str | None:
        if key not in mapping:
            self.problem(parent.line, _("missing '{key}' (the {what})").format(key=key, what=what))
            return None
        node = mapping[key]
        value = node.value
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem(
                node.line,
                _(
                    "{what} {given!r} must be lower-case letters, digits and _ (starting with a letter, at most 48)"
                ).format(what=what, given=value),
            )
            return None
        return value

    def text(self, mapping: dict[str, Node], parent: Node, key: str, *, required: bool, limit: int = 500) -> str | None:
        if key not in mapping:
            if required:
                self.problem(parent.line, _("missing '{key}'").format(key=key))
            return None
        node = mapping[key]
        if not isinstance(node.value, str) or not node.value.strip():
            self.problem(
                node.line,
                _("'{key}' must be text").format(key=key)
                if node.value is None
                else _("'{key}' must be text, not {given!r}").format(key=key, given=node.value),
            )
            return None
        if len(node.value) > limit:
            self.problem(
                node.line,
                _("'{key}' is {count} characters long; keep it under {limit}").format(
                    key=key, count=len(node.value), limit=limit
                ),
            )
            return None
        return " ".join(node.value.split())

    def flag(self, mapping: dict[str, Node], key: str) -> bool:
        node = mapping.get(key)
        if node is None:
            return False
        if not isinstance(node.value, bool):
            self.problem(node.line, _("'{key}' must be true or false, not {given!r}").format(key=key, given=node.value))
            return False
        return node.value

    def number(self, mapping: dict[str, Node], key: str) -> float | None:
        node = mapping.get(key)
        if node is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)) or node.value != node.value:
            self.problem(node.line, _("'{key}' must be a number, not {given!r}").format(key=key, given=node.value))
            return None
        return float(node.value)

    def severity(self, node: Node) -> Severity | None:
        try:
            return Severity(node.value)
        except ValueError:
            self.problem(
                node.line, _("unknown severity {given!r}; use critical, major or minor").format(given=node.value)
            )
            return None

    # -- items ---------------------------------------------------------------

    def items(self, top: dict[str, Node], root: Node) -> list[Item]:
        if "items" not in top:
            self.problem(root.line, _("missing 'items' (the list of checks)"))
            return []
        node = top["items"]
        if not isinstance(node.value, list) or not node.value:
            self.problem(node.line, _("'items' must be a list of checks ('- id: ...'), with at least one"))
            return []
        if len(node.value) > MAX_ITEMS:
            self.problem(
                node.line,
                _("{count} items; a checklist may have at most {most}").format(count=len(node.value), most=MAX_ITEMS),
            )
            return []
        items: list[Item] = []
        first_line: dict[str, int] = {}
        for entry in node.value:
            item = self.item(entry)
            if item is None:
                continue
            if item.id in first_line:
                self.problem(
                    entry.value["id"].line,
                    _("duplicate item id '{id}' (first on line {first})").format(id=item.id, first=first_line[item.id]),
                )
                continue
            first_line[item.id] = entry.value["id"].line
            items.append(item)
        return items

    def item(self, node: Node) -> Item | None:
        if not isinstance(node.value, dict):
            self.problem(node.line, _("an item is a set of 'key: value' lines (id, kind, prompt, severity)"))
            return None
        data: dict[str, Node] = node.value
        ok = len(self.r.problems)
        for key in data:
            if key not in ITEM_KEYS:
                self.problem(
                    node.key_lines[key],
                    _("unknown item key '{key}'; known: {known}").format(key=key, known=", ".join(sorted(ITEM_KEYS))),
                )
        item_id = self.identifier(data, node, "id", "item id")
        if item_id:
            self.declared.add(item_id)
        kind = None
        if "kind" not in data:
            self.problem(node.line, _("missing 'kind' (pass_fail, choice, measurement, note or photo)"))
        else:
            try:
                kind = Kind(data["kind"].value)
            except ValueError:
                self.problem(
                    data["kind"].line,
                    _("unknown kind {given!r}; use {kinds}").format(
                        given=data["kind"].value, kinds=", ".join(k.value for k in Kind)
                    ),
                )
        prompt = self.text(data, node, "prompt", required=True, limit=MAX_PROMPT)
        help_text = self.text(data, node, "help", required=False) or ""
        severity = None
        if "severity" in data:
            severity = self.severity(data["severity"])
        elif kind is not None and kind.judged:
            self.problem(
                node.line, _("missing 'severity' for {kind} item (critical, major or minor)").format(kind=kind.value)
            )
        photo = self.flag(data, "photo_required_on_fail")
        optional = self.flag(data, "optional")
        claim = self.flag(data, "tests_claim")
        if kind is None:
            return None
        if not kind.judged and photo:
            self.problem(
                data["photo_required_on_fail"].line,
                _("a {kind} item never fails, so 'photo_required_on_fail' means nothing here").format(kind=kind.value),
            )
        if not kind.judged and claim:
            self.problem(
                data["tests_claim"].line,
                _("a {kind} item never fails, so it cannot test the customer's claim ('tests_claim')").format(
                    kind=kind.value
                ),
            )
        for key, owner in (
            ("choices", Kind.CHOICE),
            ("unit", Kind.MEASUREMENT),
            ("min", Kind.MEASUREMENT),
            ("max", Kind.MEASUREMENT),
        ):
            if key in data and kind != owner:
                self.problem(
                    data[key].line,
                    _("'{key}' belongs to {owner} items, not {kind}").format(
                        key=key, owner=owner.value, kind=kind.value
                    ),
                )
        choices: tuple[Choice, ...] = ()
        unit, low, high = "", None, None
        if kind == Kind.CHOICE:
            choices = self.choices(data, node, severity)
        if kind == Kind.MEASUREMENT:
            unit = self.text(data, node, "unit", required=False, limit=12) or ""
            low, high = self.number(data, "min"), self.number(data, "max")
            if "min" not in data and "max" not in data:
                self.problem(node.line, _("a measurement needs limits: 'min', 'max' or both"))
            if low is not None and high is not None and low > high:
                self.problem(
                    data["min"].line, _("limits reversed: min {low:g} is above max {high:g}").format(low=low, high=high)
                )
        texts = self.item_texts(data, node, item_id or "?", kind, choices)
        if len(self.r.problems) > ok or item_id is None or prompt is None:
            return None
        return Item(
            item_id,
            kind,
            prompt,
            severity,
            photo,
            optional,
            help_text,
            choices,
            unit,
            low,
            high,
            node.line,
            texts=tuple(texts),
            tests_claim=claim,
        )

    def choices(self, data: dict[str, Node], node: Node, severity: Severity | None) -> tuple[Choice, ...]:
        if "choices" not in data:
            self.problem(node.line, _("a choice item needs 'choices' (answer: pass | fail | critical | major | minor)"))
            return ()
        choices_node = data["choices"]
        if not isinstance(choices_node.value, dict) or len(choices_node.value) < 2:
            self.problem(
                choices_node.line,
                _("'choices' must list at least 2 answers as 'answer: pass' or 'answer: fail' (or a severity)"),
            )
            return ()
        if len(choices_node.value) > MAX_CHOICES:
            self.problem(
                choices_node.line,
                _("{count} choices; at most {most} (one key each)").format(
                    count=len(choices_node.value), most=MAX_CHOICES
                ),
            )
            return ()
        choices = []
        for label, outcome in choices_node.value.items():
            verdict = outcome.value
            if verdict == "pass":
                choices.append(Choice(label, None))
            elif verdict == "fail":
                choices.append(Choice(label, severity))
            elif verdict in {s.value for s in Severity}:
                choices.append(Choice(label, Severity(verdict)))
            else:
                self.problem(
                    outcome.line,
                    _("choice '{label}' must be pass, fail, critical, major or minor, not {verdict!r}").format(
                        label=label, verdict=verdict
                    ),
                )
        if choices and all(c.fails_as is not None for c in choices):
            self.problem(choices_node.line, _("no choice passes: an item that can only fail is not a check"))
        return tuple(choices)

    # -- rules ---------------------------------------------------------------

    def rules(self, node: Node, known: dict[str, Item]) -> list[Rule]:
        if not isinstance(node.value, list):
            self.problem(node.line, _("'rules' must be a list ('- then: scrapped' ...); leave it out for the defaults"))
            return []
        return [r for r in (self.rule(entry, known) for entry in node.value) if r is not None]

    def rule(self, node: Node, known: dict[str, Item]) -> Rule | None:
        if not isinstance(node.value, dict):
            self.problem(node.line, _("a rule is a set of 'key: value' lines ('then' and one condition)"))
            return None
        data: dict[str, Node] = node.value
        ok = len(self.r.problems)
        for key in data:
            if key not in RULE_KEYS:
                self.problem(
                    node.key_lines[key],
                    _("unknown rule key '{key}'; a rule has 'then' and one of: {conditions}").format(
                        key=key, conditions=", ".join(sorted(RULE_CONDITIONS))
                    ),
                )
        then = None
        if "then" not in data:
            self.problem(node.line, _("a rule needs 'then' (discounted or scrapped)"))
        elif data["then"].value == Disposition.RESELLABLE.value:
            self.problem(
                data["then"].line,
                _("'then: resellable' is not a rule: resellable is what is left when no rule matches"),
            )
        elif data["then"].value not in (Disposition.DISCOUNTED.value, Disposition.SCRAPPED.value):
            self.problem(
                data["then"].line,
                _("unknown disposition {given!r}; use discounted or scrapped").format(given=data["then"].value),
            )
        else:
            then = Disposition(data["then"].value)
        conditions = [k for k in data if k in RULE_CONDITIONS]
        if len(conditions) != 1:
            self.problem(
                node.line,
                _("a rule has exactly one condition, not {count} ({conditions}); split it").format(
                    count=len(conditions), conditions=", ".join(conditions)
                )
                if conditions
                else _("a rule has exactly one condition: one of {conditions}").format(
                    conditions=", ".join(sorted(RULE_CONDITIONS))
                ),
            )
        because = self.text(data, node, "because", required=False) or ""
        because_texts = []
        for lang, (block, line) in self.blocks(data, ("because",)).items():
            if "because" not in block:
                self.problem(line, _("missing 'because' in {lang}").format(lang=lang))
            elif "because" not in data:
                self.problem(
                    block["because"].line,
                    _("{lang} 'because' translates nothing: the rule has no 'because'").format(lang=lang),
                )
            else:
                because_texts.append((lang, self.text(block, node, "because", required=True) or ""))
        rule: tuple[tuple[str, ...]] | tuple[Severity, str, int] | None = None  # (item ids,) or (severity, how, n)
        if len(conditions) == 1:
            key = conditions[0]
            cond = data[key]
            if key == "any_failed":
                ids = cond.value if isinstance(cond.value, list) else [cond]
                if not ids:
                    self.problem(cond.line, _("'any_failed' names no item"))
                for id_node in ids:
                    if id_node.value in self.declared and id_node.value not in known:
                        continue  # the item itself is reported already
                    if id_node.value not in known:
                        self.problem(id_node.line, _("rule names unknown item '{item}'").format(item=id_node.value))
                    elif not known[id_node.value].kind.judged:
                        self.problem(
                            id_node.line,
                            _("rule names '{item}', a {kind} item, which never fails").format(
                                item=id_node.value, kind=known[id_node.value].kind.value
                            ),
                        )
                rule = (tuple(str(i.value) for i in ids),)
            else:
                severity_name, _sep, how = key.partition("_fails_")
                count = cond.value
                lowest = 1 if how == "at_least" else 0
                if isinstance(count, bool) or not isinstance(count, int) or count < lowest:
                    self.problem(
                        cond.line,
                        _("'{key}' must be a whole number ≥ {lowest}, not {count!r}").format(
                            key=key, lowest=lowest, count=count
                        ),
                    )
                else:
                    rule = (Severity(severity_name), how, count)
        if len(self.r.problems) > ok or then is None or rule is None:
            return None
        if len(rule) == 1:
            return Rule(then, any_failed=rule[0], because=because, line=node.line, because_texts=tuple(because_texts))
        severity, how, count = rule
        return Rule(
            then,
            severity=severity,
            because=because,
            line=node.line,
            because_texts=tuple(because_texts),
            at_least=count if how == "at_least" else None,
            more_than=count if how == "more_than" else None,
        )
