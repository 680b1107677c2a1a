"""checkout schema: setup sessions whose saved card was made the default.

``card_setups``: one row per setup-mode Checkout session whose card became the
customer's and its subscriptions' default when the owner came back from it
(``verify_session``). Once per session: revisiting an old return URL never makes an
older card the default again.
Literal SQL: this revision must not change when live code does.

Revision ID: checkout_0007
Revises: checkout_0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "checkout_0007"
down_revision: str | None = "checkout_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE checkout.card_setups ("
        "session_id text PRIMARY KEY, "
        "tenant_id text NOT NULL, "
        "stripe_payment_method_id text NOT NULL, "
        "adopted_at timestamptz NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE checkout.card_setups")
