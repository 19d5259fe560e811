"""initial schema: campaigns, candidates, evaluations, cache_entries

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
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
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("space", sa.String(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("settings_hash", sa.String(), nullable=False),
        sa.Column("code_version", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.Column("mutation", sa.String(), nullable=True),
        sa.Column("functional_hash", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("simplified_removed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        _campaign_fk("candidates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        sa.UniqueConstraint("campaign_id", "number", name=op.f("uq_candidates_campaign_id_number")),
    )
    op.create_index("ix_candidates_campaign_hash", "candidates", ["campaign_id", "functional_hash"])
    op.create_index("ix_candidates_campaign_status", "candidates", ["campaign_id", "status"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("candidate_number", sa.Integer(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("worker", sa.String(), nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        _campaign_fk("evaluations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    op.create_index(
        "ix_evaluations_campaign_candidate", "evaluations", ["campaign_id", "candidate_number"]
    )
    op.create_table(
        "cache_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("settings_hash", sa.String(), nullable=False),
        sa.Column("functional_hash", sa.String(), nullable=False),
        sa.Column("candidate_number", sa.Integer(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=True),
        sa.Column("evaluation_count", sa.Integer(), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _campaign_fk("cache_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_entries")),
        sa.UniqueConstraint(
            "campaign_id",
            "settings_hash",
            "functional_hash",
            name=op.f("uq_cache_entries_campaign_id_settings_hash_functional_hash"),
        ),
    )


def downgrade() -> None:
    op.drop_table("cache_entries")
    op.drop_index("ix_evaluations_campaign_candidate", table_name="evaluations")
    op.drop_table("evaluations")
    op.drop_index("ix_candidates_campaign_status", table_name="candidates")
    op.drop_index("ix_candidates_campaign_hash", table_name="candidates")
    op.drop_table("candidates")
    op.drop_table("campaigns")
