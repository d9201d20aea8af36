"""Tables of the case ledger (SQLAlchemy Core), shared by :mod:`envtrace.ledger` and its migrations.

The schema is versioned with Alembic; the migrations live in
``envtrace/_ledger_migrations/versions`` and are applied programmatically whenever a
ledger is opened. This module describes the *head* revision; a test checks that the
migrations produce exactly these tables.

Times are stored as naive UTC ``DateTime`` values; calendar dates (deadlines, action
dates) as ``Date`` in the bureau's configured zone. No table holds a complainant's name,
phone number or the complaint's free text: only the keyed hash ``complainant_key``.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_REVISION = "0002"

metadata = sa.MetaData()

complaints = sa.Table(
    "complaints",
    metadata,
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

events = sa.Table(
    "events",
    metadata,
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

#: Ranked suspects of each event (ranks 1–5 of the trace's candidates; revision 0002).
#: ``events.top_enterprise_id``/``top_score`` repeat rank 1 for the case rules.
event_suspects = sa.Table(
    "event_suspects",
    metadata,
    sa.Column("cluster_id", sa.String(64), sa.ForeignKey("events.cluster_id"), primary_key=True),
    sa.Column("rank", sa.Integer(), primary_key=True),
    sa.Column("enterprise_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.Text(), nullable=False, server_default=""),
    sa.Column("score", sa.Float(), nullable=True),
)

event_complaints = sa.Table(
    "event_complaints",
    metadata,
    sa.Column("cluster_id", sa.String(64), sa.ForeignKey("events.cluster_id"), primary_key=True),
    sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.complaint_id"), primary_key=True),
)

cases = sa.Table(
    "cases",
    metadata,
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

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
    sa.Column("cluster_id", sa.String(64), sa.ForeignKey("events.cluster_id"), primary_key=True),
)

case_complaints = sa.Table(
    "case_complaints",
    metadata,
    sa.Column("case_id", sa.String(32), sa.ForeignKey("cases.case_id"), primary_key=True),
    sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.complaint_id"), primary_key=True),
)

actions = sa.Table(
    "actions",
    metadata,
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

status_history = sa.Table(
    "status_history",
    metadata,
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

updates = sa.Table(
    "updates",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("input_hash", sa.String(40), nullable=False),
    sa.Column("n_complaints", sa.Integer(), nullable=False),
    sa.Column("n_events", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)
