"""Alembic migration scripts of the automl store (a package so that env.py is installed)."""
