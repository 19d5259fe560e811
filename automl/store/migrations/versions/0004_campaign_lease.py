"""campaign lease: who runs a campaign (`owner`), when it last said so (`heartbeat_at`, on the
database's clock) and why it failed (`failure`), so that `automl status` tells a live campaign
from a dead one and `automl resume` takes a campaign over only from a dead owner

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing campaigns get NULLs: no owner, no heartbeat (a "running" one is stale), no reason.
    # Plain ALTER TABLE, never a batch copy of the table: on SQLite that copy drops the old
    # `campaigns`, and the foreign keys' ON DELETE CASCADE would empty every other table
    op.add_column("campaigns", sa.Column("owner", sa.Text(), nullable=True))
    op.add_column("campaigns", sa.Column("heartbeat_at", sa.Double(), nullable=True))
    op.add_column("campaigns", sa.Column("failure", sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN: PostgreSQL, and SQLite since 3.35 (for the reason above)
    for column in ("failure", "heartbeat_at", "owner"):
        op.execute(f"ALTER TABLE campaigns DROP COLUMN {column}")
