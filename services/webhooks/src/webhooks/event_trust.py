"""Which validly signed Stripe events this deployment may act on.

A signature proves the event came from Stripe, not that it is about us: the same
signing secret may be shared by test and live endpoints, and a Connect platform
receives events of its connected accounts. So an event is acted on only when

- its ``livemode`` matches the API key's mode (``sk_live_``/``rk_live_`` keys are
  live; any other key, or none, is test mode: a live event is never applied on a
  test key), and
- it carries no ``account`` (Connect), or one listed in ``STRIPE_CONNECT_ACCOUNTS``
  (empty by default: we serve no connected account).

A refused event is still stored and answered 200 (Stripe signed it; a 4xx would only
make Stripe retry it); the worker marks it ``processed`` with the note
``ignored: <reason>`` and never applies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def key_is_live(api_key: str | None) -> bool:
    return api_key is not None and api_key.startswith(LIVE_KEY_PREFIXES)


@dataclass(frozen=True, kw_only=True)
class EventTrust:
    livemode: bool = False
    """The mode of our API key: only events of that mode are applied."""
    connect_accounts: frozenset[str] = field(default_factory=frozenset)
    """Connected accounts (``acct_...``) whose events we serve; none by default."""

    @classmethod
    def for_key(cls, api_key: str | None, connect_accounts: Iterable[str] = ()) -> EventTrust:
        return cls(livemode=key_is_live(api_key), connect_accounts=frozenset(connect_accounts))

    def refusal(self, body: Mapping[str, Any]) -> tuple[str, str] | None:
        """``(reason code, note)`` when the event must not be applied, else ``None``."""
        livemode = body.get("livemode") is True
        if livemode != self.livemode:
            event_mode, key_mode = _mode(livemode), _mode(self.livemode)
            return "livemode_mismatch", f"a {event_mode} event on a {key_mode} API key"
        account = body.get("account")
        if account is not None and not (
            isinstance(account, str) and account in self.connect_accounts
        ):
            shown = account[:64] if isinstance(account, str) else type(account).__name__
            return "foreign_account", f"Connect account {shown} is not in STRIPE_CONNECT_ACCOUNTS"
        return None


def _mode(live: bool) -> str:
    return "live-mode" if live else "test-mode"
