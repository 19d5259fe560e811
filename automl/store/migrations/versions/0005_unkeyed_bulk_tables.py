"""no foreign key on the tables every write batch fills in bulk (candidates, evaluations,
objective_values, in_flight_candidates): their campaign exists by construction (each batch opens
by stamping the campaign row, which refuses a missing campaign and locks it against deletion;
the platform never deletes a campaign; a new campaign sweeps what a hand-deleted one left under
its id), and PostgreSQL checked the key with a trigger and a locking lookup per row, 45% of its
write time. `models._campaign_id` says the same

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("candidates", "evaluations", "objective_values", "in_flight_candidates")
NAMING_CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _key(table: str) -> str:
    return f"fk_{table}_campaign_id_campaigns"


def upgrade() -> None:
    # On SQLite a batch copy of each table (SQLite cannot drop a constraint in place). These
    # tables are referenced by none, so dropping the old copy cascades nowhere (unlike a copy of
    # `campaigns`: see 0004)
    for table in TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            batch.drop_constraint(_key(table), type_="foreignkey")


def downgrade() -> None:
    # rows whose campaign is gone (left by a campaign deleted by hand) would break the key:
    # deleted, and said so (they are results of a campaign nobody can name any more)
    for table in TABLES:
        orphans = f"FROM {table} WHERE campaign_id NOT IN (SELECT id FROM campaigns)"
        count = op.get_bind().execute(sa.text(f"SELECT count(*) {orphans}")).scalar_one()
        if count:
            logging.getLogger(__name__).warning(
                "downgrade to 0004: deleting %d rows of %s whose campaign no longer exists",
                count, table)
            op.execute(f"DELETE {orphans}")
        with op.batch_alter_table(table, naming_convention=NAMING_CONVENTION) as batch:
            batch.create_foreign_key(_key(table), "campaigns", ["campaign_id"], ["id"],
                                     ondelete="CASCADE")
