"""Ordering guard for Stripe events, which Stripe delivers in no particular order.

A projection keeps, per Stripe object (subscription id, invoice id ...), the
mark of the event it last applied: the event's ``created`` time and its id.
An incoming event is judged against that watermark:

- same event id as the last applied one  -> ``DUPLICATE`` (ignore)
- ``created`` older than the watermark    -> ``STALE`` (ignore)
- ``created`` equal, other event id       -> ``TIE``: Stripe's ``created`` has
  one-second resolution, so neither event may win blindly; the caller re-reads
  the object from Stripe and applies that authoritatively
- newer (or no watermark yet)             -> ``APPLIED``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from billing_domain.timestamps import ensure_utc, from_unix


class ApplyOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    TIE = "tie"
    """Not applied: re-read the object from Stripe and ``apply_authoritative`` it."""
    SUPERSEDED = "superseded"
    """Not applied: about a subscription that is no longer the tenant's current one."""

    @property
    def changed_state(self) -> bool:
        return self is ApplyOutcome.APPLIED


@dataclass(frozen=True, kw_only=True)
class AppliedMark:
    """When (Stripe's ``created``) and which Stripe event last touched an object."""

    created: datetime
    event_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "created", ensure_utc(self.created, name="created"))

    @classmethod
    def from_unix(cls, created: int, event_id: str) -> AppliedMark:
        """From a Stripe event's ``created`` (Unix seconds) and ``id``."""
        return cls(created=from_unix(created), event_id=event_id)


def judge(last: AppliedMark | None, incoming: AppliedMark) -> ApplyOutcome:
    """Decide what to do with ``incoming`` given the watermark ``last``."""
    if last is None:
        return ApplyOutcome.APPLIED
    if incoming.event_id == last.event_id:
        return ApplyOutcome.DUPLICATE
    if incoming.created < last.created:
        return ApplyOutcome.STALE
    if incoming.created == last.created:
        return ApplyOutcome.TIE
    return ApplyOutcome.APPLIED


def later_mark(last: AppliedMark | None, incoming: AppliedMark) -> AppliedMark:
    """The watermark after applying ``incoming`` authoritatively: it never moves back."""
    if last is None or incoming.created >= last.created:
        return incoming
    return last
