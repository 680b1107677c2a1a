"""The services' JSON answers: the bytes Starlette's encoder wrote, written by orjson."""

from __future__ import annotations

import json
from typing import Any

import pytest
from billing_platform.http.responses import JSONResponse
from starlette.responses import JSONResponse as StarletteJSONResponse

pytestmark = pytest.mark.unit

BODIES: list[Any] = [
    {"invoices": [{"id": "in_1", "total": 2900, "paid": True, "pdf": None}], "next": None},
    {"message": "Zahlung für Rechnung \u2013 fällig", "emoji": "💳", "quote": '"\\/\n'},
    [1, -2, 3.5, 1e21, 0.1, [], {}],
    {"nested": {"deep": [{"a": [None, False, 0]}]}},
    {1: "an int key", "2": "a str key"},
    "a bare string",
]


@pytest.mark.parametrize("body", BODIES)
def test_the_same_bytes_as_starlettes_encoder(body: Any) -> None:
    ours = JSONResponse(body)
    assert ours.body == StarletteJSONResponse(body).body
    assert ours.body == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert ours.media_type == "application/json"
    assert ours.headers["content-length"] == str(len(ours.body))


@pytest.mark.parametrize("body", [{"when": object()}, [object()]])
def test_what_the_standard_encoder_refuses_is_refused(body: Any) -> None:
    with pytest.raises(TypeError):
        JSONResponse(body)
