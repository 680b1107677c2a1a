"""Money: an integer amount of minor units (cents) and an ISO 4217 currency.

Floats never hold money. ``currency`` is stored lower-case as Stripe sends it
(``"usd"``); upper-case input is accepted and normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from billing_domain.errors import RuleViolated

_CURRENCY = re.compile(r"[a-z]{3}")

# Stripe's zero-decimal and three-decimal currencies; every other has two.
_ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS = {"usd": "$"}


def minor_unit_digits(currency: str) -> int:
    """How many digits of the amount are below the major unit (usd 2, jpy 0)."""
    if currency in _ZERO_DECIMAL:
        return 0
    if currency in _THREE_DECIMAL:
        return 3
    return 2


@dataclass(frozen=True, kw_only=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise RuleViolated(
                f"money amount must be an integer of minor units, got {self.amount!r}",
                code="bad_amount",
            )
        currency = self.currency.lower() if isinstance(self.currency, str) else ""
        if not _CURRENCY.fullmatch(currency):
            raise RuleViolated(
                f"currency must be a 3-letter ISO 4217 code, got {self.currency!r}",
                code="bad_currency",
            )
        object.__setattr__(self, "currency", currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)

    def __add__(self, other: Money) -> Money:
        self._require_same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._require_same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def format(self) -> str:
        """For display: ``"$12.34"`` for US dollars, ``"12.34 EUR"`` otherwise."""
        digits = minor_unit_digits(self.currency)
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**digits)
        number = f"{major}.{minor:0{digits}d}" if digits else str(major)
        symbol = _SYMBOLS.get(self.currency)
        if symbol is not None:
            return f"{sign}{symbol}{number}"
        return f"{sign}{number} {self.currency.upper()}"

    def _require_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise RuleViolated(
                f"cannot combine {self.currency} with {other.currency}",
                code="currency_mismatch",
            )
