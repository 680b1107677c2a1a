import json

import pytest
from webhooks.stripe_event import MalformedEvent, parse_event

pytestmark = pytest.mark.unit


def _body(**overrides: object) -> bytes:
    event: dict[str, object] = {
        "id": "evt_1",
        "type": "customer.subscription.updated",
        "created": 1_700_000_000,
        "api_version": "2025-08-27.basil",
        "livemode": False,
        "data": {"object": {"id": "sub_1", "metadata": {"tenant_id": "tenant_a"}}},
    }
    event.update(overrides)
    return json.dumps({k: v for k, v in event.items() if v is not ...}).encode()


def test_header_fields_are_read() -> None:
    header, body = parse_event(_body())
    assert header.event_id == "evt_1"
    assert header.event_type == "customer.subscription.updated"
    assert header.created.timestamp() == 1_700_000_000
    assert header.tenant_hint == "tenant_a"
    assert body["data"]["object"]["id"] == "sub_1"


def test_client_reference_id_is_a_tenant_hint() -> None:
    header, _ = parse_event(_body(data={"object": {"client_reference_id": "tenant_b"}}))
    assert header.tenant_hint == "tenant_b"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"evt_1"',
        _body(id="ch_1"),
        _body(id=7),
        _body(id=...),
        _body(id="evt_" + "x" * 300),
        _body(type=""),
        _body(type=None),
        _body(created="yesterday"),
        _body(created=True),
        _body(created=-5),
        _body(data=None),
        _body(data={"object": "sub_1"}),
        _body(data={}),
        b'{"id": "evt_1", "type": "x", "created": 1, "data": {"object": {}}' + b"}" * 0,
    ],
)
def test_anything_but_a_stripe_event_is_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(payload)


def test_deeply_nested_json_is_rejected_cleanly() -> None:
    nested = b'{"id": "evt_1", "type": "x", "created": 1, "data": {"object": ' + b"[" * 100_000
    with pytest.raises(MalformedEvent):
        parse_event(nested)


@pytest.mark.parametrize(
    "obj",
    [
        {"id": "sub_1", "metadata": {"note": "a\x00b"}},
        {"id": "sub_1", "metadata": {"key\x00": "v"}},
        {"id": "sub_1", "items": [[["\x00"]]]},
    ],
    ids=["value", "key", "nested array"],
)
def test_a_nul_in_any_string_is_malformed(obj: dict[str, object]) -> None:
    """Regression (tests/hostile): Postgres' jsonb refuses U+0000, so storing such a body
    was a 500; it is a malformed event (400) instead."""
    payload = _body(data={"object": obj})
    assert b"\\u0000" in payload
    with pytest.raises(MalformedEvent, match="U\\+0000"):
        parse_event(payload)


def test_the_text_backslash_u0000_is_not_a_nul() -> None:
    header, body = parse_event(_body(data={"object": {"note": "\\u0000"}}))
    assert body["data"]["object"]["note"] == "\\u0000"
    assert header.event_id == "evt_1"
