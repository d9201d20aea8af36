"""Alembic environment for the case ledger.

Run only programmatically: :func:`envtrace.ledger.migrate` puts an open SQLAlchemy
connection into ``config.attributes["connection"]`` and calls ``alembic.command.upgrade``.
"""

from alembic import context

from envtrace._ledger_schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise RuntimeError("run the ledger migrations through envtrace.ledger.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
