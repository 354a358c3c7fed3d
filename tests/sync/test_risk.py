"""Risk signals: the server matches each customer's returns by a keyed hash, flags frequent returners and
earlier mismatches on what the stations pull, and lists them for supervisors without ever naming them."""

from __future__ import annotations

import requests
import sqlalchemy as sa

from sync.client import SyncClient
from sync.imports import read_rma_file

EMAIL = "Zhang.Wei@example.com"


def _import(server, token, *records):
    answer = requests.post(
        f"{server.url}/api/v1/rmas",
        json={"rmas": list(records)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def _rma(code, customer="", sku="SHOE-1"):
    record = {"rma_code": code, "status": "authorized", "lines": [{"sku": sku, "gtin": "", "qty": 1}]}
    return record | ({"customer": customer} if customer else {})


def _risk_report(server, token):
    answer = requests.get(f"{server.url}/api/v1/reports/risk", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _everything_stored(storage) -> str:
    """Every text the server database holds, for looking for the customer in it."""
    with storage.db.read() as conn:
        tables = sa.inspect(conn).get_table_names()
        return "\n".join(
            str(row) for table in tables for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
        )


def test_the_third_return_in_30_days_is_flagged_at_the_station(storage, server, tokens, make_station):
    # one customer, written three ways by the ERP; another customer once
    _import(server, tokens["erp"], _rma("RMA-1", EMAIL), _rma("RMA-2", " zhang.wei@EXAMPLE.com"))
    _import(server, tokens["erp"], _rma("RMA-3", "zhang.wei@example.com "), _rma("RMA-4", "li.na@example.com"))
    station = make_station("A")
    SyncClient(server.url, tokens["A"]).sync(station)
    risks = {code: station.get_rma(code).risk for code in ("RMA-1", "RMA-2", "RMA-3", "RMA-4")}
    assert risks["RMA-1"] is None and risks["RMA-2"] is None and risks["RMA-4"] is None
    assert (risks["RMA-3"].returns_30d, risks["RMA-3"].mismatches) == (3, 0)
    # matched, never kept: not at the station, not anywhere in the server's database
    assert "example.com" not in "\n".join(str(r) for r in station.conn.iterdump())
    assert "example.com" not in _everything_stored(storage).lower()
    listed = _risk_report(server, tokens["erp"])
    assert [(c["returns_30d"], c["rmas"]) for c in listed] == [(3, ["RMA-1", "RMA-2", "RMA-3"])]
    assert "example" not in str(listed).lower()


def test_an_earlier_mismatch_flags_the_next_return_and_a_serial_seen_twice_is_listed(
    storage, server, tokens, make_station
):
    _import(server, tokens["erp"], _rma("RMA-7", EMAIL), _rma("RMA-8", "someone.else@example.com"))
    station, client = make_station("A"), SyncClient(server.url, tokens["A"])
    client.sync(station)
    station.receive("RMA-7", "A", "op1")
    station.record_mismatch("RMA-7", "05012345678900", "A", "op1", gtin="05012345678900", serial="SN-42")
    station.receive("RMA-8", "A", "op1")
    station.record_mismatch("RMA-8", "05012345678900", "A", "op1", gtin="05012345678900", serial="SN-42")
    client.sync(station)
    _import(server, tokens["erp"], _rma("RMA-9", EMAIL.upper()))
    client.sync(station)
    risk = station.get_rma("RMA-9").risk
    assert (risk.returns_30d, risk.mismatches) == (2, 1)
    listed = {tuple(c["rmas"]): c for c in _risk_report(server, tokens["erp"])}
    assert listed[("RMA-7", "RMA-9")]["mismatched_rmas"] == ["RMA-7"]
    assert listed[("RMA-7", "RMA-9")]["serials_seen_before"] == ["05012345678900/SN-42"]
    assert listed[("RMA-8",)]["serials_seen_before"] == ["05012345678900/SN-42"]


def test_a_station_token_may_not_read_the_risk_list(sqlite_server, sqlite_tokens):
    answer = requests.get(
        f"{sqlite_server.url}/api/v1/reports/risk",
        headers={"Authorization": f"Bearer {sqlite_tokens['A']}"},
        timeout=10,
    )
    assert answer.status_code == 403


def test_a_record_sent_again_without_the_customer_keeps_its_flag_and_a_sent_risk_is_ignored(
    sqlite_server, sqlite_tokens, make_station
):
    erp = sqlite_tokens["erp"]
    _import(sqlite_server, erp, _rma("RMA-1", EMAIL), _rma("RMA-2", EMAIL), _rma("RMA-3", EMAIL))
    fake = _rma("RMA-5") | {"risk": {"returns_30d": 99, "mismatches": 99}}
    _import(sqlite_server, erp, _rma("RMA-3", sku="SHOE-2"), fake)
    station = make_station("A")
    SyncClient(sqlite_server.url, sqlite_tokens["A"]).sync(station)
    assert station.get_rma("RMA-3").lines[0].sku == "SHOE-2"
    assert station.get_rma("RMA-3").risk.returns_30d == 3
    assert station.get_rma("RMA-5").risk is None


def test_the_customer_column_of_a_file_reaches_the_server_and_not_the_station_store(
    tmp_path, sqlite_server, sqlite_tokens, make_station
):
    path = tmp_path / "rmas.csv"
    path.write_text(
        "rma_code,status,sku,qty,customer\n" + "".join(f"RMA-{n},authorized,SHOE-1,1,C-1001\n" for n in range(1, 4)),
        encoding="utf-8",
    )
    parsed = read_rma_file(path).rmas
    assert {p.rma["customer"] for p in parsed} == {"C-1001"}
    station = make_station("A")
    station.import_rmas([(p.rma, p.lines, p.tracking) for p in parsed], station="A", operator="op1", source="rmas.csv")
    assert "C-1001" not in "\n".join(str(r) for r in station.conn.iterdump())
    _import(sqlite_server, sqlite_tokens["erp"], *[p.rma | {"lines": p.lines} for p in parsed])
    SyncClient(sqlite_server.url, sqlite_tokens["A"]).sync(station)
    assert station.get_rma("RMA-3").risk.returns_30d == 3


def test_rma_server_risk_lists_the_flagged_customer_by_reference(sqlite_storage, sqlite_server, sqlite_tokens):
    from click.testing import CliRunner

    from server.cli import server as server_cli

    _import(sqlite_server, sqlite_tokens["erp"], *[_rma(f"RMA-{n}", EMAIL) for n in range(1, 4)])
    result = CliRunner().invoke(server_cli, ["risk", "--db", sqlite_storage.url])
    assert result.exit_code == 0, result.output
    assert "3 returns in 30 days" in result.output and "RMA-1, RMA-2, RMA-3" in result.output
    assert "example" not in result.output.lower()


def test_what_stations_pull_leaves_out_an_empty_customer_and_no_risk(sqlite_server, sqlite_tokens):
    """A station of the release before risk signals refuses unknown fields: an unflagged RMA must not carry them."""
    _import(sqlite_server, sqlite_tokens["erp"], _rma("RMA-1", EMAIL), _rma("RMA-2"))
    answer = requests.get(
        f"{sqlite_server.url}/api/v1/changes",
        headers={"Authorization": f"Bearer {sqlite_tokens['A']}"},
        timeout=10,
    )
    pulled = [c["rma"] for c in answer.json()["changes"] if c["kind"] == "rma"]
    assert len(pulled) == 2 and all("risk" not in r and "customer" not in r for r in pulled)
