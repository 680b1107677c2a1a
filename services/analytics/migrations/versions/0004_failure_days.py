"""analytics schema: daily sums of the payment failures, kept beside them for the metrics.

``failure_days`` (day of the invoice's first failure, currency): how many failed and
their amount due, how many of those were recovered since and the amount paid, and each
recovery's wait in microseconds (``waits``, for the median time to recover). Updated in
the transaction that records a new failure or its recovery (only when that changes a
row, so replays add nothing), and filled here from the failures already recorded. The
metrics read these sums instead of every failure. Days are UTC.

Revision ID: analytics_0004
Revises: analytics_0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "analytics_0004"
down_revision: str | None = "analytics_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics.failure_days (
            day              date NOT NULL,
            currency         text NOT NULL,
            failed           bigint NOT NULL DEFAULT 0,
            failed_amount    bigint NOT NULL DEFAULT 0,
            recovered        bigint NOT NULL DEFAULT 0,
            recovered_amount bigint NOT NULL DEFAULT 0,
            waits            bigint[] NOT NULL DEFAULT '{}',
            PRIMARY KEY (day, currency)
        )"""
    )
    op.execute(
        """
        INSERT INTO analytics.failure_days
            (day, currency, failed, failed_amount, recovered, recovered_amount, waits)
        SELECT (failed_at AT TIME ZONE 'UTC')::date, currency, count(*), sum(amount_due),
               count(recovered_at),
               coalesce(sum(recovered_amount) FILTER (WHERE recovered_at IS NOT NULL), 0),
               coalesce(array_agg(((extract(epoch FROM recovered_at)
                                    - extract(epoch FROM failed_at)) * 1000000)::bigint)
                        FILTER (WHERE recovered_at IS NOT NULL), '{}')
        FROM analytics.payment_failures GROUP BY 1, 2"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS analytics.failure_days")
