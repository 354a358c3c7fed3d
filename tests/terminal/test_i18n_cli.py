"""The `rma` command line in Simplified Chinese (issue 13): real runs, real files, a real closed port.

Every run is ``rma --language zh-CN ...`` as a process; what a clerk reads must be Chinese,
while data (codes, file names, customer names) and barcodes stay exactly as they were.
"""

# ruff: noqa: RUF001 -- the expected lines are Chinese, with its full-width punctuation

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from click.testing import CliRunner

from terminal import i18n
from terminal.cli import click_texts, rma, short_help, wrap
from terminal.cli.common import columns

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"


@pytest.fixture
def run(tmp_path):
    """Run `rma --language zh-CN ARGS...` in a clean environment; returns the CompletedProcess."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    for name in ("RMA_STATION_CONFIG", "RMA_SERVER_TOKEN", i18n.LANGUAGE_ENV):
        env.pop(name, None)

    def rma_zh(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "terminal", "--language", "zh-CN", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return rma_zh


def test_a_usage_error_is_one_chinese_line(run):
    done = run("receive")
    assert done.returncode == 2
    assert done.stderr == "rma: 缺少参数 'CODES...'（参见 rma receive --help）\n"
    assert "没有选项 '--bogus'" in run("receive", "--bogus").stderr
    assert "'--size' 的值无效：'9x9' 不是 '4x6', '4x2' 之一" in run("label", "rma", "X", "--size", "9x9").stderr


def test_the_help_of_a_command_is_chinese(run):
    done = run("receive", "--help")
    assert done.returncode == 0
    out = done.stdout
    assert out.startswith("用法: rma receive [OPTIONS] CODES...")
    for words in ("不用界面，按 RMA 号、运单号或订单号收货。", "选项:", "工作站数据库文件", "显示本帮助并退出。"):
        assert words in out
    # laid out by terminal columns (a Chinese character is two): nothing wider than Click's 80
    assert max(columns(line) for line in out.splitlines()) <= 80


def test_an_import_problem_line_and_the_summary_are_chinese(run, tmp_path):
    csv = tmp_path / "退货.csv"
    csv.write_text(
        HEADER + "RMA-1,SO-1,张伟,,尺码偏小,authorized,APP-1,,夹克,x,apparel\n"
        "RMA-2,SO-2,李娜,,质量问题,authorized,APP-2,,耳机,1,apparel\n",
        encoding="utf-8",
    )
    done = run("import", "rmas", str(csv), "--db", str(tmp_path / "s.db"))
    assert done.returncode == 1
    assert f"{csv}:2: 数量 'x' 不是整数" in done.stderr.splitlines()
    assert done.stdout == f"从 {csv} 导入了 1 个 RMA（1 行）；1 个问题\n"


def test_a_failed_sync_is_one_chinese_line_saying_nothing_is_lost(run, tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    done = run("sync", "--once", "--server", url, "--token", "t", "--retries", "0", "--db", str(tmp_path / "s.db"))
    assert done.returncode == 1
    assert done.stderr == f"rma: 连不上服务器 {url}：连接被拒绝；0 个事件待发，没有丢失\n"


def _zpl_texts(zpl: str) -> list[str]:
    """The text fields of a ZPL document, decoded from ^FH hex (barcodes left out)."""
    texts = []
    for field in re.findall(r"\^FO[^\^]*\^A0[^\^]*\^FH\^FD(.*?)\^FS", zpl):
        raw = re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), field.encode("ascii"))
        texts.append(raw.decode("utf-8"))
    return texts


def _barcodes(zpl: str) -> list[str]:
    return re.findall(r"\^BC[^\^]*\^FH\^FD(.*?)\^FS", zpl)


def test_a_label_printed_in_chinese_has_chinese_captions_and_the_same_barcode(run, tmp_path):
    csv = tmp_path / "rmas.csv"
    csv.write_text(HEADER + "RMA-88,SO-8,张伟,,尺码偏小,authorized,APP-1,,夹克,1,apparel\n", encoding="utf-8")
    done = run("label", "rma", "--from-csv", str(csv), "--out", str(tmp_path / "zh.zpl"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("已把 1 张标签写入 ")
    zh = (tmp_path / "zh.zpl").read_text(encoding="ascii")
    texts = _zpl_texts(zh)
    # The Chinese captions and data go as graphics a stock printer draws (read back by OCR in
    # tests/labels/test_cjk.py); what stays printer text is the Latin data, as it was.
    assert zh.count("^GFA,") >= 6 and "RMA-88" in texts and "SO-8" in texts
    assert not {"CUSTOMER", "ORDER", "REASON"} & set(texts)

    english = subprocess.run(
        [sys.executable, "-m", "terminal", "--language", "en", "label", "rma", "--from-csv", str(csv), "--out", "-"],
        capture_output=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")},
        timeout=120,
    ).stdout.decode("ascii")
    assert "CUSTOMER" in _zpl_texts(english) and "客户" not in _zpl_texts(english)
    assert _barcodes(zh) == _barcodes(english) and _barcodes(zh)  # a barcode says the same in every language

    done = run("label", "disposition", "RMA-88", "1", "resellable", "--sku", "APP-1", "--out", str(tmp_path / "d.zpl"))
    assert done.returncode == 0, done.stderr
    disposition = (tmp_path / "d.zpl").read_text(encoding="ascii")
    assert "^GFA," in disposition and "RESELLABLE" not in _zpl_texts(disposition)
    # the same label as a picture renders (whether its font has the glyphs is issue 13's font work)
    done = run("label", "rma", "--from-csv", str(csv), "--out", str(tmp_path / "zh.png"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "zh.png").read_bytes().startswith(b"\x89PNG")


def _command_paths(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command under ``group`` as the words that name it; the central server keeps its English help."""
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _command_paths(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def _allowed_words(command: click.Command, ctx: click.Context) -> set[str]:
    """What a Chinese help may show in Latin letters: names, option names, metavars, choices."""
    # the program, the decoders, a key, the roles a flag takes, the columns of an operators file, encodings
    words = {"rma", "zxing", "cpp", "zbar", "stderr", "Ctrl", "clerk", "inspector", "supervisor", "name", "role"}
    words |= {"gbk", "utf"}
    for param in command.params:
        words.update(re.findall(r"[A-Za-z]+", " ".join([*param.opts, *param.secondary_opts, param.make_metavar(ctx)])))
        if isinstance(param.type, click.Choice):
            words.update(str(choice) for choice in param.type.choices)
    if isinstance(command, click.Group):
        words.update(command.commands)
    return words


ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# Not words a clerk must read as English: --options, $VARIABLES, `commands`, paths and URLs
# (a.b, a/b, a:b, a_b), and names in capitals (metavars such as FILE, and RMA, SKU, CSV, ZPL).
NOT_PROSE = re.compile(r"--?[\w-]+|\$\w+|`[^`]*`|\S*[./:_<>]\S*|\b[A-Z][A-Z0-9_]+\b(\.\.\.)?")


@pytest.mark.parametrize("path", _command_paths(rma), ids=lambda path: " ".join(path) or "rma")
def test_no_english_is_left_in_the_chinese_help_of_any_command(path):
    done = CliRunner().invoke(rma, ["--language", "zh-CN", *path, "--help"], prog_name="rma")
    assert done.exit_code == 0, done.output
    command, ctx = rma, click.Context(rma)
    allowed = _allowed_words(rma, ctx)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
        allowed |= _allowed_words(command, ctx) | {name}
    english = []
    for line in done.output.splitlines():
        if line.startswith("  server "):  # the central server's line: its own help is English (README)
            assert "英文" in line
            continue
        english += [w for w in ENGLISH_WORD.findall(NOT_PROSE.sub(" ", line)) if w not in allowed]
    assert not english, f"English in `rma --language zh-CN {' '.join(path)} --help`: {english}\n{done.output}"


def test_the_english_help_is_still_english_after_a_chinese_one():
    # translate_help keeps the English aside: one process may speak both (this one, here)
    CliRunner().invoke(rma, ["--language", "zh-CN", "receive", "--help"], prog_name="rma")
    done = CliRunner().invoke(rma, ["--language", "en", "receive", "--help"], prog_name="rma")
    assert "Receive parcels by RMA code" in done.output and "Show this message and exit." in done.output
    assert "收货" not in done.output
    CliRunner().invoke(rma, ["--language", "zh-CN", "--help"], prog_name="rma")
    listing = CliRunner().invoke(rma, ["--language", "en", "--help"], prog_name="rma").output
    assert "Receive parcels" in listing and not any("\u4e00" <= ch <= "\u9fff" for ch in listing)


def test_click_texts_lists_every_message_of_the_installed_click():
    # A Click upgrade that adds or rewords a message would leave it English in a Chinese station.
    folder = Path(click.__file__).parent
    theirs = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            folder, method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS
        )
    }
    plurals = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            Path(click_texts.__file__).parent,
            method_map=[("click_texts.py", "python")],
            keywords=DEFAULT_KEYWORDS,
        )
        if isinstance(message, tuple)
    }
    assert theirs == set(click_texts.MESSAGES) | plurals
    assert len(click_texts.plural_messages()) == len(plurals)


def test_a_chinese_line_breaks_between_characters_and_keeps_closing_marks_on_its_line():
    lines = wrap("工作站数据库文件（默认：用户数据文件夹）。", 10)
    assert all(columns(line) <= 12 for line in lines)  # a closing mark may stand one past the edge
    assert not any(line[0] in "，。）：" for line in lines)
    assert "".join(lines) == "工作站数据库文件（默认：用户数据文件夹）。"
    assert wrap("Station database file", 10) == ["Station", "database", "file"]
    assert short_help("不用界面，按 RMA 号收货。\n\n每个号码一行。") == "不用界面，按 RMA 号收货"
    assert short_help("Receive parcels.") is None  # Click's own shortening for text with spaces


def test_a_printers_status_is_chinese_without_its_name_twice():
    from labels import open_printer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    i18n.use("zh-CN")
    status = open_printer(f"tcp://127.0.0.1:{port}", timeout=2).status()
    assert not status.ready
    assert status.problem == "拒绝连接（是否开机？端口是否正确？）"  # "打印机 tcp://…" is said where it is shown
