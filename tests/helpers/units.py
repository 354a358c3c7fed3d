"""Inspected units with license plates, on a real station database (for put-away tests)."""

from __future__ import annotations

from sync.store import Inspection, Store


def received_rma(store: Store, code: str = "RMA-1", qty: int = 2) -> None:
    """An expected RMA of ``qty`` earbuds, received at dock-1."""
    with store.write() as conn:
        store.upsert_rma(
            conn,
            {"rma_code": code, "status": "authorized", "reason": "changed my mind"},
            [{"sku": "ELC-2", "gtin": "5901234123457", "description": "Earbuds", "qty": qty, "category": "general"}],
        )
    store.receive(code, "dock-1", "anna")


def inspected_unit(store: Store, final: str, channel: str, bin: str, code: str = "RMA-1") -> str:
    """Inspect the next unit of line 1 of ``code`` with this grade, channel and bin; its license plate."""
    return store.save_inspection(
        Inspection(
            rma_code=code,
            line_no=1,
            checklist_id="general",
            checklist_hash="ab" * 32,
            answers=({"item": "powers_on", "kind": "pass_fail", "answer": "pass", "failed": False},),
            suggested=final,
            final=final,
            started_at="2026-11-21T10:00:00.000+00:00",
            channel=channel,
            suggested_channel=channel,
            bin=bin,
            routing_id="standard",
            routing_hash="cd" * 32,
        ),
        "bench-1",
        "qc1",
    ).lpn
