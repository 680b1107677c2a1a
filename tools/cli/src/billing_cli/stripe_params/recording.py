"""What the SDK really sends: an ``HTTPXClient`` that keeps every request it makes.

Passed to ``build_stripe_client(http_client=...)``, so the adapters run unchanged;
each request keeps its method, path, ``Stripe-Version`` and its parameters as
form paths (``phases[1][duration][interval]``), from the query string (GET) and
the form-encoded body (POST) alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe


@dataclass(frozen=True, kw_only=True)
class SentRequest:
    method: str
    path: str
    stripe_version: str | None
    params: tuple[tuple[str, str], ...]


def sent_request(method: str, url: str, headers: Mapping[str, str], post_data: Any) -> SentRequest:
    parts = urlsplit(url)
    body = post_data.decode() if isinstance(post_data, bytes) else str(post_data or "")
    params = parse_qsl(parts.query, keep_blank_values=True)
    params += parse_qsl(body, keep_blank_values=True)
    version = next((v for k, v in headers.items() if k.lower() == "stripe-version"), None)
    return SentRequest(
        method=method.lower(), path=parts.path, stripe_version=version, params=tuple(params)
    )


class RecordingHTTPClient(stripe.HTTPXClient):
    def __init__(self, timeout: float = 20.0) -> None:
        super().__init__(timeout=timeout)
        self.sent: list[SentRequest] = []

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        self.sent.append(sent_request(method, url, headers, post_data))
        return await super().request_async(method, url, headers, post_data)

    async def close_async(self) -> None:
        await super().close_async()  # type: ignore[no-untyped-call]
