"""Languages of the mails: Babel's locale data for money and dates, gettext catalogues
(``locales/<lang>/LC_MESSAGES/notifications.po``, read by Babel) for the words.

English is the source language and the fallback; the tenant's language is the first of
its Stripe customer's ``preferred_locales`` we have a catalogue for.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_precision

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "notifications"


@functools.cache
def languages() -> tuple[str, ...]:
    """English plus every language with a catalogue."""
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (DEFAULT_LANGUAGE, *found)


def language_for(preferred: Sequence[str]) -> str:
    """The first preferred locale (``fr-FR``, ``de``, ``en_GB``) we speak, else English."""
    for tag in preferred:
        try:
            language = Locale.parse(tag.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            continue
        if language in languages():
            return language
    return DEFAULT_LANGUAGE


@functools.cache
def _catalogue(language: str) -> dict[str, str]:
    if language == DEFAULT_LANGUAGE:
        return {}
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and message.string and not message.fuzzy
    }


class Translator:
    """The words, money and dates of one language."""

    def __init__(self, language: str) -> None:
        if language not in languages():
            raise ValueError(f"no catalogue for language {language!r}")
        self.language = language
        self._messages = _catalogue(language)

    def __call__(self, message: str, **values: object) -> str:
        text = self._messages.get(message, message)
        return text % values if values else text

    def money(self, amount_minor: int, currency: str) -> str:
        """``$12.00``, ``12,00 €``, ``¥1,200``: the currency's own number of decimals."""
        code = currency.upper()
        major = Decimal(amount_minor).scaleb(-get_currency_precision(code))
        return str(format_currency(major, code, locale=self.language))

    def date(self, when: datetime | None) -> str:
        return "" if when is None else str(format_date(when, format="long", locale=self.language))
