"""queries at scale and crash-safe resume: objective directions, environment and controller
state per campaign, an index of objective values (top k), a maintained Pareto front,
candidates by duplicate_of, candidates in flight, cache entries by settings (shared cache)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _campaign_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["campaign_id"],
        ["campaigns.id"],
        name=op.f(f"fk_{table}_campaign_id_campaigns"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("objectives", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("environment", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("state", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "in_flight_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.Column("mutation", sa.String(), nullable=True),
        sa.Column("functional_hash", sa.String(), nullable=False),
        sa.Column("simplified_removed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        _campaign_fk("in_flight_candidates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_flight_candidates")),
        sa.UniqueConstraint("campaign_id", "number",
                            name=op.f("uq_in_flight_candidates_campaign_id_number")),
    )
    op.create_index(
        "ix_candidates_campaign_duplicate_of", "candidates", ["campaign_id", "duplicate_of"]
    )
    op.create_index("ix_cache_entries_settings_hash_id", "cache_entries", ["settings_hash", "id"])
    op.create_table(
        "objective_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("candidate_number", sa.Integer(), nullable=False),
        sa.Column("objective", sa.String(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        _campaign_fk("objective_values"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objective_values")),
    )
    op.create_index(
        "ix_objective_values_campaign_objective_value",
        "objective_values",
        ["campaign_id", "objective", "value", "candidate_number"],
    )
    op.create_table(
        "front_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("candidate_number", sa.Integer(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=False),
        _campaign_fk("front_members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_front_members")),
    )
    op.create_index("ix_front_members_campaign", "front_members", ["campaign_id"])
    # existing evaluations enter the objective index; their campaigns have no registered
    # objectives (directions unknown here), so their front is computed when asked
    op.execute(_backfill_objective_values())


def _backfill_objective_values() -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        return sa.text(
            "INSERT INTO objective_values (campaign_id, candidate_number, objective, value) "
            "SELECT e.campaign_id, e.candidate_number, kv.key, kv.value::double precision "
            "FROM evaluations e, json_each_text(e.objectives) kv "
            "WHERE e.objectives IS NOT NULL AND kv.value NOT IN ('nan', 'inf', '-inf')"
        )
    return sa.text(
        "INSERT INTO objective_values (campaign_id, candidate_number, objective, value) "
        "SELECT e.campaign_id, e.candidate_number, kv.key, kv.value "
        "FROM evaluations e, json_each(e.objectives) kv "
        "WHERE e.objectives IS NOT NULL AND kv.type IN ('real', 'integer')"
    )


def downgrade() -> None:
    op.drop_index("ix_front_members_campaign", table_name="front_members")
    op.drop_table("front_members")
    op.drop_index("ix_objective_values_campaign_objective_value", table_name="objective_values")
    op.drop_table("objective_values")
    op.drop_index("ix_candidates_campaign_duplicate_of", table_name="candidates")
    op.drop_index("ix_cache_entries_settings_hash_id", table_name="cache_entries")
    op.drop_table("in_flight_candidates")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("state")
        batch.drop_column("environment")
        batch.drop_column("objectives")
