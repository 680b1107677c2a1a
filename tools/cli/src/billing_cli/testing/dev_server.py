"""A running ``billing dev`` (started by the browser tests): its URLs and state folder, and
what a test asks of its sandbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

STRIPE_KEY = {"Authorization": "Bearer sk_test_browser"}


@dataclass(frozen=True)
class DevServer:
    base: str
    sandbox: str
    workdir: Path

    def jwt_secret(self) -> str:
        secrets = json.loads((self.workdir / ".billing" / "dev-secrets.json").read_text())
        return str(secrets["jwt_secret"])

    def sandbox_now(self) -> int:
        return int(httpx.get(f"{self.sandbox}/_sandbox/clock", timeout=10).json()["now"])

    def advance_clock(self, seconds: int) -> None:
        moved = httpx.post(
            f"{self.sandbox}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=60
        )
        assert moved.status_code == 200, moved.text

    def stripe_post(self, path: str, data: dict[str, str]) -> dict[str, Any]:
        """A Stripe API call straight to the sandbox (what Stripe's dashboard would do)."""
        answer = httpx.post(f"{self.sandbox}/v1{path}", data=data, headers=STRIPE_KEY, timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def customer_of(self, tenant: str) -> str:
        """The Stripe customer billing dev made for ``tenant``."""
        found = httpx.get(
            f"{self.sandbox}/v1/customers/search",
            params={"query": f"metadata['tenant_id']:'{tenant}'"},
            headers=STRIPE_KEY,
            timeout=10,
        ).json()
        return str(found["data"][0]["id"])

    def set_card(self, customer: str, number: str) -> None:
        """Replace the customer's card (a test card number: declining, 3-D Secure...)."""
        answer = httpx.post(
            f"{self.sandbox}/_sandbox/customers/{customer}/card", data={"card": number}, timeout=10
        )
        assert answer.status_code == 200, answer.text

    def renew(self, customer: str) -> None:
        """Move the clock one day past the customer's period end: Stripe tries to renew,
        once. Not a fixed 32 days: the clock is shared by every test file before this one
        (billing dev runs once per worker), a month can be 28 days, and Stripe's first retry
        (3 days on) is then a second attempt inside the jump."""
        [subscription] = httpx.get(
            f"{self.sandbox}/v1/subscriptions",
            params={"customer": customer},
            headers=STRIPE_KEY,
            timeout=10,
        ).json()["data"]
        period_end = int(subscription["items"]["data"][0]["current_period_end"])
        self.advance_clock(max(period_end - self.sandbox_now(), 0) + 86_400)
