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
