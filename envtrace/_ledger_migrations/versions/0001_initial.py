"""Initial ledger schema: complaints history, events, cases and links, actions, audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of revision 0001."""
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(64), primary_key=True),
        sa.Column("content_hash", sa.String(40), nullable=False, index=True),
        sa.Column("received_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False, server_default=""),
        sa.Column("complainant_key", sa.String(32), nullable=False, server_default=""),
        sa.Column("area", sa.String(64), nullable=False, server_default=""),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("satisfaction", sa.String(16), nullable=False, server_default=""),
        sa.Column("duplicate_of", sa.String(64), nullable=False, server_default=""),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
    )

    op.create_table(
        "events",
        sa.Column("cluster_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("area", sa.String(64), nullable=False, server_default=""),
        sa.Column("n_complaints", sa.Integer(), nullable=False),
        sa.Column("n_complainants", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("footprint_wkt", sa.Text(), nullable=True),
        sa.Column("top_enterprise_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("top_score", sa.Float(), nullable=True),
    )

    op.create_table(
        "event_complaints",
        sa.Column("cluster_id", sa.String(64), sa.ForeignKey("events.cluster_id"), primary_key=True),
        sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.complaint_id"), primary_key=True),
    )

    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False, server_default=""),
        sa.Column("area", sa.String(64), nullable=False, server_default=""),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("enterprise_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("enterprise_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("footprint_wkt", sa.Text(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="update"),
    )

    op.create_table(
        "case_events",
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
        sa.Column("cluster_id", sa.String(64), sa.ForeignKey("events.cluster_id"), primary_key=True),
    )

    op.create_table(
        "case_complaints",
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
        sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.complaint_id"), primary_key=True),
    )

    op.create_table(
        "actions",
        sa.Column("action_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("natural_key", sa.String(40), nullable=False, unique=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=True, index=True),
        sa.Column("date", sa.Date(), nullable=False, index=True),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("complaint_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("enterprise_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("persons", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("value", sa.String(16), nullable=False, server_default=""),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("by", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False, server_default="manual"),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )

    op.create_table(
        "status_history",
        sa.Column("history_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), nullable=False, index=True),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False, server_default=""),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )

    op.create_table(
        "updates",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("input_hash", sa.String(40), nullable=False),
        sa.Column("n_complaints", sa.Integer(), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop every table of revision 0001."""
    for name in (
        "updates", "status_history", "actions", "case_complaints", "case_events",
        "cases", "event_complaints", "events", "complaints",
    ):
        op.drop_table(name)
