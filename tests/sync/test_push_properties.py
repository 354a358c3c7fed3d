"""Property: whatever a client sends to the push endpoint, the server answers with a reason, never a 500.

Hypothesis draws bodies shaped like ``PushBatch`` (seqs near and far from the bounds, ids that
repeat, times that are and are not times, payloads of any JSON, NaN included) and bodies that are
not batches at all, and sends them to the real server over loopback, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sync.protocol import MAX_BATCH, MAX_SEQ, PushResult

EDGE_INTS = st.sampled_from([0, 1, -1, MAX_SEQ - 1, MAX_SEQ, MAX_SEQ + 1, 2**63 - 1, 2**63, 10**20, -(2**63)])
ANY_INT = st.integers() | EDGE_INTS
JSON = st.recursive(
    st.none() | st.booleans() | ANY_INT | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=25,
)
NOW = datetime.now(UTC)
STAMPS = (
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    | st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda d: d.isoformat() + "Z")
    | st.just((NOW - timedelta(minutes=1)).isoformat())
    | st.text(max_size=45)
    | ANY_INT
)
TYPES = st.sampled_from(
    ["rma.received", "rma.receive_undone", "item.inspected", "rma.inspected", "parcel.unexpected"]
) | st.text(max_size=70)
CODES = st.none() | st.sampled_from(["RMA-P1", "RMA-P2", "rma-p1"]) | st.text(max_size=70) | ANY_INT


@st.composite
def events(draw, seq):
    """One event: every field may be missing, of the wrong kind, or out of bounds."""
    fields = {
        "seq": st.just(seq) if seq is not None else ANY_INT,
        "id": st.builds(lambda: str(uuid.uuid4()))
        | st.text(max_size=70)
        | ANY_INT
        | st.sampled_from(["same-id-0001", "same-id-0002"]),
        "type": TYPES,
        "operator": st.text(max_size=70),
        "at": STAMPS,
        "rma_code": CODES,
        "refers_to": st.none() | st.sampled_from(["same-id-0001", "same-id-0002"]) | st.text(max_size=70),
        "payload": st.dictionaries(st.text(max_size=10), JSON, max_size=5) | JSON,
        "station": st.text(max_size=10),
    }
    chosen = draw(st.sets(st.sampled_from(sorted(fields)), min_size=0, max_size=len(fields)))
    if seq is not None:
        chosen.add("seq")
    return {name: draw(fields[name]) for name in sorted(chosen)}


@st.composite
def bodies(draw):
    """A push body: mostly batch-shaped (often consecutive, to reach the per-event checks), sometimes anything."""
    shape = draw(st.sampled_from(["consecutive", "consecutive", "any-seqs", "anything"]))
    if shape == "anything":
        return draw(JSON)
    after = draw(st.integers(0, 40) | EDGE_INTS)
    n = draw(st.integers(0, 6))
    if shape == "consecutive":
        evs = [draw(events(after + i + 1)) for i in range(n)]
    else:
        evs = [draw(events(None)) for _ in range(n)]
    body = {"after_seq": after, "events": evs}
    if draw(st.booleans()):
        body[draw(st.text(max_size=8))] = draw(JSON)
    return body


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=bodies())
@example(body={"\n": None, "after_seq": 0, "events": []})  # an unknown key that is a line break: one line still
def test_no_push_body_gives_a_500(server, tokens, body):
    data = json.dumps(body, allow_nan=True)
    answer = requests.post(
        f"{server.url}/api/v1/events",
        data=data,
        timeout=30,
        headers={"Authorization": f"Bearer {tokens['A']}", "Content-Type": "application/json"},
    )
    assert answer.status_code < 500, (answer.status_code, answer.text[:300], data[:500])
    assert answer.status_code in (200, 413, 422), answer.text[:300]
    if answer.status_code == 200:
        result = PushResult.model_validate(answer.json())
        assert len(result.rejected) <= MAX_BATCH
    else:
        detail = answer.json()["detail"]
        assert isinstance(detail, str) and detail and "\n" not in detail


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_no_push_bytes_give_a_500(sqlite_server, sqlite_tokens, raw):
    answer = requests.post(
        f"{sqlite_server.url}/api/v1/events",
        data=raw,
        timeout=30,
        headers={"Authorization": f"Bearer {sqlite_tokens['A']}", "Content-Type": "application/json"},
    )
    assert answer.status_code in (200, 400, 422), (answer.status_code, answer.text[:300], raw[:200])
    assert isinstance(answer.json(), dict)


def test_deeply_nested_json_is_refused_not_a_500(sqlite_server, sqlite_tokens):
    for depth in (5_000, 100_000):
        body = b'{"after_seq": 0, "events": [{"seq": 1, "payload": ' + b"[" * depth + b"]" * depth + b"}]}"
        answer = requests.post(
            f"{sqlite_server.url}/api/v1/events",
            data=body,
            timeout=30,
            headers={"Authorization": f"Bearer {sqlite_tokens['A']}", "Content-Type": "application/json"},
        )
        assert answer.status_code in (400, 422), (answer.status_code, answer.text[:300])
