"""Each operator's own language (issue 13, part 1): the station speaks it while they are signed in.

The station's language is the one it was started in (``--language``,
$RMA_LANGUAGE, ``language`` in station.toml); an operator registered with
another one sees every screen in theirs from sign-in to sign-out.
"""

from __future__ import annotations

from click.testing import CliRunner

from sync.store import Store
from terminal import i18n
from terminal.app import make_app
from terminal.cli import rma
from terminal.widgets.outcome_banner import OutcomeBanner
from tests.conftest import add_rma, post_scan, wait_until


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def run(tmp_path, *args: str):
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(rma, list(args), env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False)


def test_an_operator_keeps_a_language_and_an_older_database_gets_the_column(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.add_operator("li", "李娜", "inspector", "zh-CN")
        store.add_operator("anna", "Anna")
        with store.write() as conn:  # as a database from before 009_operator_language
            conn.execute("DELETE FROM _migrations WHERE name = '009_operator_language'")
            conn.execute("ALTER TABLE operators DROP COLUMN language")
    with Store(path) as store:
        assert store.operator("anna").language == ""  # the station's
        store.add_operator("li", language="zh-CN")
        store.add_operator("li", "李娜")  # a change of name keeps the language
        assert store.operator("li").language == "zh-CN" and store.operator("li").role == "inspector"
        store.add_operator("li", language="")  # back to the station's
        assert store.operator("li").language == ""


def test_rma_operator_add_takes_the_operators_language_and_refuses_one_the_station_lacks(tmp_path):
    db = str(tmp_path / "s.db")
    done = run(tmp_path, "operator", "add", "li", "--operator-language", "zh_CN", "--db", db)
    assert done.exit_code == 0, done.output
    bad = run(tmp_path, "operator", "add", "kim", "--operator-language", "klingon", "--db", db)
    assert bad.exit_code == 1 and "en, zh-CN" in bad.output and bad.output.strip().count("\n") == 0
    with Store(db) as store:
        assert store.operator("li").language == "zh-CN" and store.operator("kim") is None


def test_the_operators_file_may_have_a_language_column(tmp_path):
    path = tmp_path / "operators.csv"
    path.write_text("id,name,role,language\nli,李娜,inspector,zh-CN\nben,Ben,clerk,\nkim,Kim,clerk,tlh\n", "utf-8")
    db = tmp_path / "s.db"
    done = run(tmp_path, "import", "operators", str(path), "--db", str(db))
    assert done.exit_code == 1 and f"{path}:4:" in done.output and "en, zh-CN" in done.output
    with Store(db) as store:
        assert [(o.id, o.language) for o in store.operators()] == [("ben", ""), ("li", "zh-CN")]


async def test_the_station_speaks_the_signed_in_operators_language_and_its_own_again_after(settings, db_path):
    with Store(db_path) as store:
        store.add_operator("li", "李娜", "inspector", "zh-CN")
        store.add_operator("ben", "Ben Novak", "clerk")
        add_rma(store, "RMA-2026-000001", customer="张伟")
    i18n.use("en")
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one(OutcomeBanner).word == "SCAN")
        assert "NOT SIGNED IN" in screen_text(app) and "Sign in" in screen_text(app)
        post_scan(app, "OP:li")
        await wait_until(pilot, lambda: app.operator == "li")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "操作员 li" in shown and "请扫包裹上的 RMA 标签" in shown and "签退" in shown, (
            shown
        )  # header, banner, keys
        assert "Sign out" not in shown and "Scan the RMA" not in shown
        post_scan(app, "RMA-2026-000001")
        await wait_until(pilot, lambda: app.screen.handled == 1)
        assert "已收货" in screen_text(app)
        post_scan(app, "OP:ben")  # the next one at the bench reads the station's language
        await wait_until(pilot, lambda: app.operator == "ben")
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "OPERATOR ben" in shown and "Sign out" in shown and "签退" not in shown, shown
        await pilot.press("f3")
        await wait_until(pilot, lambda: not app.operator)
        assert i18n.current() == "en"


async def test_a_chinese_station_shows_an_english_operator_english(settings, db_path):
    with Store(db_path) as store:
        store.add_operator("sam", "Sam Okafor", "clerk", "en")
    i18n.use("zh-CN")
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one(OutcomeBanner).word == "SCAN")
        assert "未签到" in screen_text(app)
        post_scan(app, "OP:sam")
        await wait_until(pilot, lambda: app.operator == "sam")
        await pilot.pause(0.2)
        assert "Scan the RMA or carrier label" in screen_text(app)
        await pilot.press("f3")
        await wait_until(pilot, lambda: not app.operator)
        await pilot.pause(0.2)
        assert i18n.current() == "zh-CN" and "请扫包裹上的 RMA 标签" in screen_text(app)
