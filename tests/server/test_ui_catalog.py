"""The web pages' zh-CN catalog (server/ui/zh_CN.json) covers every string the pages show."""

from __future__ import annotations

import json
from pathlib import Path

from babel.messages.extract import extract_from_dir

from server.ui import catalog

UI = Path(catalog.__file__).parent


def shown_strings() -> set[str]:
    """Every msgid of the templates ({{ _() }}) and of the Python modules (N_, _) of server/ui."""
    found = extract_from_dir(
        UI,
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")],
        options_map={"templates/**.html": {"trimmed": "false"}},
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    )
    strings = set()
    for _filename, _lineno, message, _comments, _context in found:
        strings.add(message if isinstance(message, str) else message[0])
    return strings


def test_every_string_the_pages_show_has_zh_cn_text():
    messages = json.loads(catalog.CATALOG.read_text(encoding="utf-8"))
    shown = shown_strings()
    assert len(shown) > 40  # the extraction found the templates' strings, not nothing
    missing = sorted(s for s in shown if not messages.get(s))
    assert missing == [], f"no zh-CN text in server/ui/zh_CN.json for: {missing}"


def test_placeholders_survive_translation():
    for english, chinese in json.loads(catalog.CATALOG.read_text(encoding="utf-8")).items():
        for placeholder in ("%(name)s", "%(code)s", "%(num)s"):
            assert (placeholder in english) == (placeholder in chinese), english
