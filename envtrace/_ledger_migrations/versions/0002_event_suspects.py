"""Ranked suspects per event (ranks 1–5), so that actions naming an enterprise reach cases.

Existing events get their stored top-1 suspect as rank 1 (lower ranks were not kept
before this revision).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``event_suspects`` and backfill rank 1 from ``events.top_enterprise_id``."""
    op.create_table(
        "event_suspects",
        sa.Column("cluster_id", sa.String(64), sa.ForeignKey("events.cluster_id"), primary_key=True),
        sa.Column("rank", sa.Integer(), primary_key=True),
        sa.Column("enterprise_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.Text(), nullable=False, server_default=""),
        sa.Column("score", sa.Float(), nullable=True),
    )
    op.execute(
        "INSERT INTO event_suspects (cluster_id, rank, enterprise_id, name, score) "
        "SELECT cluster_id, 1, top_enterprise_id, '', top_score FROM events WHERE top_enterprise_id != ''"
    )


def downgrade() -> None:
    """Drop ``event_suspects``."""
    op.drop_table("event_suspects")
