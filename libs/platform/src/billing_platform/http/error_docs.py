"""The one way a route documents its errors in OpenAPI: ``responses=error_responses(...)``.

Every error body is ``{"error": {"code", "message"}}`` (``billing_platform.http.errors``
produces it); this module describes that shape once (the ``ErrorOut`` schema) and gives
each status a generic description a route may sharpen::

    @router.post(..., responses=error_responses(401, 403, 409, 503, described={
        409: "Already on this plan.",
    }))

429 and 503 answers document their ``Retry-After`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable.", examples=["owner_only"])
    message: str = Field(description="For humans.")


class ErrorOut(BaseModel):
    """Every error answer of every service."""

    error: ErrorDetail


GENERIC_DESCRIPTIONS: Mapping[int, str] = {
    400: "The request cannot be read (a body that is not UTF-8 JSON text, a bad signature).",
    401: "Missing, expired or invalid bearer token.",
    403: "Not allowed: wrong role, or another tenant's object.",
    404: "Not found.",
    409: "Conflict with the current state.",
    413: "The body is too large.",
    415: "Unsupported Content-Type.",
    422: "Invalid input.",
    429: "Over this tenant's share; retry after Retry-After seconds.",
    503: "A dependency (Stripe, the database) is unreachable; retry after Retry-After seconds.",
}
RETRY_AFTER: Mapping[str, Any] = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
}


def error_responses(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """FastAPI's ``responses`` for these error statuses, all in the ``ErrorOut`` shape.

    ``described`` (a route's or a service's own words) replaces the generic description
    of the statuses listed; it documents no status by itself.
    """
    described = described or {}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description = described.get(status) or GENERIC_DESCRIPTIONS.get(status)
        if description is None:
            raise ValueError(f"no description for status {status}: pass described={{...}}")
        entry: dict[str, Any] = {"model": ErrorOut, "description": description}
        if status in (429, 503):
            entry["headers"] = dict(RETRY_AFTER)
        responses[status] = entry
    return responses
