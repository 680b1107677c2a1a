"""The sandbox sends only Stripe's own error types and codes.

Stripe's definition lists them: the error object's ``type`` enum and its ``code``
enum (the SDK's ``SetupIntent.LastSetupError``, generated from Stripe's spec). Every
``code=``/``type_=`` the sandbox's sources pass to an error, and every ``"code"``/
``"type"`` of an error body they build (a dict with a ``"message"``), must be one of
them: ``authentication_error``, ``rate_limit_error``, ``parameter_invalid_string``
or ``parameter_invalid_boolean`` were inventions.
"""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe_sandbox
from stripe._setup_intent import SetupIntent
from stripe_sandbox.definition import fields

pytestmark = pytest.mark.unit

SOURCES = sorted(Path(stripe_sandbox.__file__).parent.rglob("*.py"))


def _literals(tp: object) -> set[str]:
    found: set[str] = set()
    for arg in typing.get_args(tp):
        if typing.get_origin(arg) is typing.Literal:
            found.update(str(value) for value in typing.get_args(arg))
        else:
            found |= _literals(arg)
    return found


STRIPE_TYPES = _literals(fields(SetupIntent.LastSetupError)["type"])
STRIPE_CODES = _literals(fields(SetupIntent.LastSetupError)["code"])


def _used(kind: str) -> Iterator[tuple[str, str]]:
    """(where, value) of every constant error ``kind`` ("code" or "type") in the sources."""
    keyword = "type_" if kind == "type" else "code"
    for source in SOURCES:
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            value: ast.expr | None
            if isinstance(node, ast.keyword) and node.arg == keyword:
                value = node.value
            elif isinstance(node, ast.Dict) and _is_error_body(node):
                value = _entry(node, kind)
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                yield f"{source.name}:{value.lineno}", value.value


def _is_error_body(node: ast.Dict) -> bool:
    return _entry(node, "message") is not None


def _entry(node: ast.Dict, name: str) -> ast.expr | None:
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == name:
            return value
    return None


def test_the_definition_lists_stripes_types_and_codes() -> None:
    assert {"api_error", "card_error", "idempotency_error", "invalid_request_error"} == STRIPE_TYPES
    assert {"parameter_unknown", "parameter_missing", "rate_limit", "resource_missing"} <= (
        STRIPE_CODES
    )
    assert "parameter_invalid_string" not in STRIPE_CODES


def test_every_error_type_the_sandbox_sends_is_stripes() -> None:
    used = list(_used("type"))
    assert used  # the scan finds them
    assert [(where, value) for where, value in used if value not in STRIPE_TYPES] == []


def test_every_error_code_the_sandbox_sends_is_stripes() -> None:
    used = list(_used("code"))
    assert {value for _, value in used} >= {"parameter_unknown", "rate_limit"}
    assert [(where, value) for where, value in used if value not in STRIPE_CODES] == []
