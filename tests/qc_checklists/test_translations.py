"""Checklists in two languages: zh-CN texts beside the English ones, validated, hashed, shown by language."""

from __future__ import annotations

import textwrap

import pytest

from qc_checklists import Kind, check_file, load_checklist, load_library, standard_folder

GOOD = """\
checklist: gadgets
title: Gadgets
zh-CN:
  title: 小电器
items:
  - id: powers_on
    kind: pass_fail
    severity: critical
    prompt: Powers on
    help: Hold the button for 3 seconds.
    zh-CN:
      prompt: 能开机
      help: 按住按钮 3 秒。
  - id: housing
    kind: choice
    severity: minor
    prompt: Housing
    choices:
      as new: pass
      scratched: fail
    zh-CN:
      prompt: 外壳
      choices:
        as new: 全新
        scratched: 有划痕
  - id: remarks
    kind: note
    prompt: Remarks
    zh-CN:
      prompt: 备注
rules:
  - then: scrapped
    any_failed: [powers_on]
    because: a device that does not start goes to claims
    zh-CN:
      because: 无法开机的设备走索赔
"""
# The same checklist before issue 13 gave it a second language (no zh-CN anywhere).
ENGLISH_ONLY = """\
checklist: gadgets
title: Gadgets
items:
  - id: powers_on
    kind: pass_fail
    severity: critical
    prompt: Powers on
    help: Hold the button for 3 seconds.
  - id: housing
    kind: choice
    severity: minor
    prompt: Housing
    choices:
      as new: pass
      scratched: fail
  - id: remarks
    kind: note
    prompt: Remarks
rules:
  - then: scrapped
    any_failed: [powers_on]
    because: a device that does not start goes to claims
"""


def problems_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "gadgets.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    checklist, problems = check_file(path)
    assert (checklist is None) == bool(problems)  # never half a checklist
    return [str(p).removeprefix(str(path) + ":") for p in problems]


def edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_good_file_is_valid_and_speaks_both_languages(tmp_path):
    assert problems_of(tmp_path, GOOD) == []
    c = load_checklist(tmp_path / "gadgets.yaml")
    powers, housing, remarks = c.items
    assert (c.title_in("zh-CN"), c.title_in("en")) == ("小电器", "Gadgets")
    assert (powers.prompt_in("zh-CN"), powers.help_in("zh-CN")) == ("能开机", "按住按钮 3 秒。")
    assert [housing.choice_label_in(ch.label, "zh-CN") for ch in housing.choices] == ["全新", "有划痕"]
    assert remarks.prompt_in("zh-CN") == "备注"
    assert c.rules[0].because_in("zh-CN") == "无法开机的设备走索赔"
    # the English text, ids and answers are what is recorded: a translation only changes what is shown
    assert [ch.label for ch in housing.choices] == ["as new", "scratched"]
    assert powers.prompt == "Powers on"


@pytest.mark.parametrize("language", ["zh-CN", "zh_CN", "zh_CN.UTF-8", "zh", "zh-Hans", "ZH-cn"])
def test_the_ways_a_station_names_simplified_chinese(tmp_path, language):
    problems_of(tmp_path, GOOD)
    item = load_checklist(tmp_path / "gadgets.yaml").items[0]
    assert item.prompt_in(language) == "能开机"


@pytest.mark.parametrize("language", ["", "en", "en_US.UTF-8", "de", "zh-TW", "zh-Hant"])
def test_any_other_language_falls_back_to_english(tmp_path, language):
    problems_of(tmp_path, GOOD)
    c = load_checklist(tmp_path / "gadgets.yaml")
    assert c.items[0].prompt_in(language) == "Powers on"
    assert c.items[0].help_in(language) == "Hold the button for 3 seconds."
    assert c.items[1].choice_label_in("scratched", language) == "scratched"
    assert c.title_in(language) == "Gadgets"


@pytest.mark.parametrize(
    "text, expected",
    [
        # an item without zh-CN in a checklist that has it: named by the item's line
        (edit("    zh-CN:\n      prompt: 备注\n", ""), ["26: item 'remarks' has no zh-CN prompt"]),
        (edit("      prompt: 能开机\n", ""), ["11: missing 'prompt' in zh-CN"]),
        (
            edit("      prompt: 外壳\n", "      promt: 外壳\n"),
            ["21: missing 'prompt' in zh-CN", "22: unknown key 'promt' in zh-CN"],
        ),
        (edit("    zh-CN:\n      prompt: 备注\n", "    zh-CN: 备注\n"), ["29: 'zh-CN' must be 'key: text' lines"]),
        (edit("      help: 按住按钮 3 秒。\n", ""), ["11: missing zh-CN 'help' (the English 'help' is on line 10)"]),
        (
            edit("    prompt: Powers on\n    help: Hold the button for 3 seconds.\n", "    prompt: Powers on\n"),
            ["12: zh-CN 'help' translates nothing: the item has no English 'help'"],
        ),
        (edit("        scratched: 有划痕\n", ""), ["23: no zh-CN text for choice 'scratched'"]),
        (
            edit("        scratched: 有划痕\n", "        scratched: 有划痕\n        dented: 凹陷\n"),
            ["26: zh-CN choice 'dented' is not an answer of 'housing' (answers: as new, scratched)"],
        ),
        (
            edit("        scratched: 有划痕\n", "        scratched: 全新\n"),
            ["25: zh-CN choices 'as new' and 'scratched' are both '全新'"],
        ),
        (
            edit("      prompt: 备注\n", "      prompt: 备注\n      choices:\n        a: b\n"),
            ["31: 'choices' in zh-CN belongs to choice items, not note"],
        ),
        (edit("zh-CN:\n  title: 小电器\n", ""), ["1: missing zh-CN 'title' (the items have zh-CN texts)"]),
        (
            edit("    zh-CN:\n      because: 无法开机的设备走索赔\n", ""),
            ["32: missing zh-CN 'because' (the items have zh-CN texts)"],
        ),
        (
            edit("    zh-CN:\n      prompt: 外壳\n", "    zh-TW:\n      prompt: 外殼\n"),
            ["21: unknown item key 'zh-TW'"],
        ),
        (edit("      prompt: 能开机\n", "      prompt: ''\n"), ["12: 'prompt' must be text"]),
    ],
    ids=[
        "item-untranslated",
        "no-prompt",
        "unknown-key",
        "not-a-mapping",
        "help-missing",
        "help-without-english",
        "choice-missing",
        "choice-unknown",
        "choices-alike",
        "choices-on-note",
        "title-missing",
        "because-missing",
        "unknown-language",
        "empty-prompt",
    ],
)
def test_translation_problems_are_file_line_reason(tmp_path, text, expected):
    found = problems_of(tmp_path, text)
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        assert got.startswith(want), found


def test_a_checklist_without_translations_needs_none(tmp_path):
    assert problems_of(tmp_path, ENGLISH_ONLY) == []
    c = load_checklist(tmp_path / "gadgets.yaml")
    assert c.items[0].prompt_in("zh-CN") == "Powers on" and not c.languages


def test_a_translation_is_part_of_the_content_hash(tmp_path):
    """What the inspector read is part of what graded the unit: any translated word is a new version."""

    def hashed(text: str, name: str) -> str:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "gadgets.yaml").write_text(text, encoding="utf-8")
        return load_checklist(folder / "gadgets.yaml").content_hash

    english = hashed(ENGLISH_ONLY, "english")
    # the hash of a checklist without translations is what it was before issue 13 (pinned: stored records keep it)
    assert english == "f733cf65a5e60948db8ca4c17effc485605896b060ab55ec7cb3339aa2a55417"
    both = hashed(GOOD, "both")
    retranslated = hashed(GOOD.replace("有划痕", "划伤"), "retranslated")
    relaid = hashed("# comment\n" + GOOD.replace("zh-CN:\n  title: 小电器\n", "zh-CN: {title: 小电器}\n"), "relaid")
    assert len({english, both, retranslated}) == 3
    assert relaid == both  # layout and comments are still not content


def test_the_standard_checklists_carry_zh_cn_for_every_text():
    library = load_library(standard_folder())
    assert library.problems == []
    assert sorted(library.checklists) == ["apparel", "consumer_electronics", "footwear", "general", "small_appliances"]
    for checklist in library.checklists.values():
        assert checklist.languages == ("zh-CN",)
        assert has_han(checklist.title_in("zh-CN")), checklist.id
        for item in checklist.items:
            where = f"{checklist.id}:{item.id}"
            assert has_han(item.prompt_in("zh-CN")) and item.prompt_in("en") == item.prompt, where
            if item.help:
                assert has_han(item.help_in("zh-CN")), where
            if item.kind == Kind.CHOICE:
                shown = [item.choice_label_in(ch.label, "zh-CN") for ch in item.choices]
                assert all(has_han(s) for s in shown) and len(set(shown)) == len(shown), where
        for rule in checklist.rules:
            if rule.because:
                assert has_han(rule.because_in("zh-CN")), checklist.id


def test_checklist_list_names_the_languages():
    from click.testing import CliRunner

    from terminal.cli import rma

    result = CliRunner().invoke(rma, ["checklist", "list"])
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert len(rows) == 5 and all(row.endswith("[en, zh-CN]") for row in rows)
