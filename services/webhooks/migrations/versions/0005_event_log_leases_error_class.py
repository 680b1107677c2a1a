"""webhooks schema: the event log's claims are leases; the class of the last error.

A worker claims a due row by writing its id, a fresh claim token and a lease
(``lease_until``; ``next_attempt_at`` moves to the same instant, so a row whose
worker died becomes due again when the lease ends), commits at once, and handles
the event outside any transaction. Its finishing write applies only while the
row still carries its claim token. ``last_error_class``: ``transient`` or
``permanent`` (the two retry lanes).
Literal SQL: this revision must not change when live code does.

Revision ID: webhooks_0005
Revises: webhooks_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "webhooks_0005"
down_revision: str | None = "webhooks_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE webhooks.stripe_webhook_events_log "
        "ADD COLUMN last_error_class text "
        "CHECK (last_error_class IN ('transient', 'permanent')), "
        "ADD COLUMN claimed_by text, "
        "ADD COLUMN claim_token uuid, "
        "ADD COLUMN lease_until timestamptz"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE webhooks.stripe_webhook_events_log "
        "DROP COLUMN lease_until, DROP COLUMN claim_token, DROP COLUMN claimed_by, "
        "DROP COLUMN last_error_class"
    )
