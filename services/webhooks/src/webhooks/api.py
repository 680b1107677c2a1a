"""``POST /api/webhooks/stripe``: verify, store once, answer. Nothing else on this path.

Rejections (400, 413, 415) store nothing. The database being down is a 503
(Stripe retries). No Stripe call and no broker call happen here: the worker
does the rest.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.errors import ApiError
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from webhooks import metrics
from webhooks.context import WebhooksContext
from webhooks.signature import SignatureRejected, verify
from webhooks.stripe_event import MalformedEvent, new_stripe_event
from webhooks.use_cases.ingest import record_stripe_event

MAX_BODY_BYTES = 1024 * 1024

router = APIRouter(tags=["stripe"])
log = structlog.get_logger("webhooks.api")
_ACCEPTED = b'{"received":true,"duplicate":false}'
_DUPLICATE = b'{"received":true,"duplicate":true}'


class WebhookReceived(BaseModel):
    received: bool = Field(examples=[True])
    duplicate: bool = Field(
        description="True when this event id was already stored (a redelivery).", examples=[False]
    )


def _reject(status: int, code: str, message: str) -> ApiError:
    # The reason only: never the payload, the signature header or a secret.
    log.warning("webhooks.rejected", reason=code, status=status)
    metrics.REJECTED.labels(code).inc()
    metrics.RECEIVED.labels("unknown", "rejected").inc()
    return ApiError(status, code, message)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _reject(413, "payload_too_large", "the body is over 1 MiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _reject(413, "payload_too_large", "the body is over 1 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/api/webhooks/stripe",
    summary="Receive a Stripe webhook (raw body, Stripe-Signature)",
    response_model=WebhookReceived,
    responses=error_responses(
        400,
        413,
        415,
        503,
        described={
            400: "missing, malformed, stale or invalid signature; not a Stripe event",
            413: "body over 1 MiB",
            415: "a signed body whose Content-Type is not application/json",
            503: "database unavailable: retry",
        },
    ),
)
async def receive_stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> Response:
    context = context_of(request, WebhooksContext)
    payload = await _read_body(request)
    try:
        verify(
            payload,
            stripe_signature,
            context.webhook_secrets,
            now=context.clock.now().timestamp(),
        )
        _json_or_unstated(request.headers.get("content-type"))
        event = new_stripe_event(payload)
    except SignatureRejected as exc:
        status = 503 if exc.code == "webhook_secret_missing" else 400
        raise _reject(status, exc.code, exc.message) from None
    except MalformedEvent as exc:
        raise _reject(400, "malformed_event", exc.message) from None
    duplicate = await record_stripe_event(event, context.store, context.clock)
    metrics.RECEIVED.labels(
        metrics.type_label(event.event_type), "duplicate" if duplicate else "accepted"
    ).inc()
    # The hottest answer of the system: written once, not serialized per request.
    return Response(_DUPLICATE if duplicate else _ACCEPTED, media_type="application/json")


def _json_or_unstated(content_type: str | None) -> None:
    """Checked after the signature (a forged request is a 400 whatever it claims to
    be). Stripe sends ``application/json``; a sender that states no type is taken at
    its signed word; a body that says it is something else is a 415."""
    if content_type is None:
        return
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise _reject(415, "unsupported_media_type", "Stripe webhooks are application/json")
