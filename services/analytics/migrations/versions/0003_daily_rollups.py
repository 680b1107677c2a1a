"""analytics schema: daily sums of the ledger, kept beside it for the metrics' reads.

``movement_days`` (day, currency, kind: MRR delta and paying logos gained or lost),
``plan_days`` (day, currency, plan: paying subscriptions gained or lost) and
``activity_days`` (day, kind, currency: count) are updated in the transaction that
inserts a ledger row (only when the row is new, so replays add nothing), and filled
here from the rows already recorded. Days are UTC.

Revision ID: analytics_0003
Revises: analytics_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "analytics_0003"
down_revision: str | None = "analytics_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics.movement_days (
            day      date NOT NULL,
            currency text NOT NULL,
            kind     text NOT NULL,
            delta    bigint NOT NULL DEFAULT 0,
            logos    bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (day, currency, kind)
        )"""
    )
    op.execute(
        """
        CREATE TABLE analytics.plan_days (
            day      date NOT NULL,
            currency text NOT NULL,
            plan     text NOT NULL,
            change   bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (day, currency, plan)
        )"""
    )
    op.execute(
        """
        CREATE TABLE analytics.activity_days (
            day      date NOT NULL,
            kind     text NOT NULL,
            currency text NOT NULL DEFAULT '',
            count    bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (day, kind, currency)
        )"""
    )
    op.execute(
        """
        INSERT INTO analytics.movement_days (day, currency, kind, delta, logos)
        SELECT (occurred_at AT TIME ZONE 'UTC')::date, currency, kind,
               sum(mrr_after - mrr_before), sum((mrr_after > 0)::int - (mrr_before > 0)::int)
        FROM analytics.mrr_movements GROUP BY 1, 2, 3"""
    )
    op.execute(
        """
        INSERT INTO analytics.plan_days (day, currency, plan, change)
        SELECT day, currency, plan, sum(change) FROM (
            SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, currency, plan_after AS plan,
                   1 AS change
            FROM analytics.mrr_movements WHERE mrr_after > 0
            UNION ALL
            SELECT (occurred_at AT TIME ZONE 'UTC')::date, currency, plan_before, -1
            FROM analytics.mrr_movements WHERE mrr_before > 0
        ) AS changes GROUP BY 1, 2, 3"""
    )
    op.execute(
        """
        INSERT INTO analytics.activity_days (day, kind, currency, count)
        SELECT (occurred_at AT TIME ZONE 'UTC')::date, kind, coalesce(currency, ''), count(*)
        FROM analytics.activity GROUP BY 1, 2, 3"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS analytics.activity_days")
    op.execute("DROP TABLE IF EXISTS analytics.plan_days")
    op.execute("DROP TABLE IF EXISTS analytics.movement_days")
