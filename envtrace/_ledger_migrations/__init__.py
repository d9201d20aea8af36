"""Alembic migrations of the case ledger, applied by :func:`envtrace.ledger.open_engine`."""
