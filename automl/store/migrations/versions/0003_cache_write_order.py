"""cache write order: which cache entries a campaign wrote most recently, so a resumed
controller can load only those (`Store.load_cache` with a limit)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing entries get 0: older than every later write, and among themselves in id order
    with op.batch_alter_table("cache_entries") as batch:
        batch.add_column(sa.Column("written", sa.Integer(), server_default=sa.text("0"),
                                   nullable=False))
    op.create_index(
        "ix_cache_entries_campaign_settings_written",
        "cache_entries",
        ["campaign_id", "settings_hash", "written"],
    )


def downgrade() -> None:
    op.drop_index("ix_cache_entries_campaign_settings_written", table_name="cache_entries")
    with op.batch_alter_table("cache_entries") as batch:
        batch.drop_column("written")
