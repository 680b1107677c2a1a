"""webhooks schema: poison outbox rows wait and get parked; retention indexes; replays audited.

The relay (billing_platform.messaging.relay) backs off a row the broker refuses
(``rejections``, ``next_attempt_at``) and parks it after too many (``parked_at``);
``billing prune`` deletes sent outbox rows and old inbox rows by these indexes.
``event_replays``: who replayed which event, when, from which status (operators'
replays through the API or ``billing webhooks replay``).
Literal SQL: this revision must not change when live code does.

Revision ID: webhooks_0004
Revises: webhooks_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "webhooks_0004"
down_revision: str | None = "webhooks_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE webhooks.outbox "
        "ADD COLUMN rejections integer NOT NULL DEFAULT 0, "
        "ADD COLUMN next_attempt_at timestamptz, "
        "ADD COLUMN parked_at timestamptz"
    )
    op.execute(
        "CREATE INDEX outbox_sent_at_idx ON webhooks.outbox (sent_at) WHERE sent_at IS NOT NULL"
    )
    op.execute("CREATE INDEX inbox_received_at_idx ON webhooks.inbox (received_at)")
    op.execute(
        """
        CREATE TABLE webhooks.event_replays (
            id              bigserial PRIMARY KEY,
            event_id        text NOT NULL,
            replayed_by     text NOT NULL,
            previous_status text NOT NULL,
            replayed_at     timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX event_replays_event_idx ON webhooks.event_replays (event_id, id)")


def downgrade() -> None:
    op.execute("DROP TABLE webhooks.event_replays")
    op.execute("DROP INDEX webhooks.inbox_received_at_idx")
    op.execute("DROP INDEX webhooks.outbox_sent_at_idx")
    op.execute(
        "ALTER TABLE webhooks.outbox DROP COLUMN parked_at, DROP COLUMN next_attempt_at, "
        "DROP COLUMN rejections"
    )
