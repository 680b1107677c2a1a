"""Request and answer bodies of the notifications API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, StrictBool

from notifications.ports import SendLogEntry

ERROR_DESCRIPTIONS = {
    403: "wrong role (owner only for changes), another tenant's data, or no billing:admin scope",
    404: "no kind of email with that name",
    422: "an unknown kind or language, a kind that cannot be switched off, or a bad body",
}


class SendLogEntryOut(BaseModel):
    id: int
    kind: str
    tenant_id: str
    subject_id: str
    day: date
    status: str = Field(description="pending, sent, failed or skipped")
    to: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, entry: SendLogEntry) -> SendLogEntryOut:
        return cls(
            id=entry.id,
            kind=entry.kind.value,
            tenant_id=entry.tenant_id,
            subject_id=entry.subject_id,
            day=entry.day,
            status=entry.status,
            to=entry.to,
            attempts=entry.attempts,
            last_error=entry.last_error,
            created_at=entry.created_at,
            sent_at=entry.sent_at,
        )


class SendLogOut(BaseModel):
    entries: list[SendLogEntryOut]


class PreviewOut(BaseModel):
    kind: str
    locale: str
    subject: str
    html: str
    text: str


class PreferencesOut(BaseModel):
    tenant_id: str
    preferences: dict[str, bool] = Field(
        description="Each kind a tenant may switch off (upcoming_renewal, card_expiring)."
    )
    critical: list[str] = Field(description="Kinds that are always sent.")


class PreferencesIn(BaseModel):
    preferences: dict[str, StrictBool] = Field(max_length=16)
