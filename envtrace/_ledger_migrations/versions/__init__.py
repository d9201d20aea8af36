"""Alembic revision scripts of the case ledger."""
