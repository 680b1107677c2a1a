"""A mail's content laid out as HTML (inline CSS, dark-mode safe) and plain text (Jinja2)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.content import MailContent
from notifications.i18n import Translator


@dataclass(frozen=True, kw_only=True)
class RenderedMail:
    subject: str
    html: str
    text: str


@functools.cache
def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        # the plain-text part is not HTML: escaping it would show &amp; to the reader
        autoescape=select_autoescape(default=True) if autoescape else False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def render(mail: MailContent, translator: Translator) -> RenderedMail:
    label = translator("Unsubscribe")
    html = _environment(True).get_template("mail.html.j2")
    text = _environment(False).get_template("mail.txt.j2")
    return RenderedMail(
        subject=mail.subject,
        html=html.render(mail=mail, unsubscribe_label=label),
        text=text.render(mail=mail, unsubscribe_label=label).strip() + "\n",
    )
