"""The one exception the store raises, and the translation of database errors into it.

Messages never carry a password: URLs are rendered with ``hide_password=True`` and any
driver message that happens to contain the password is scrubbed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError


class StoreError(RuntimeError):
    """A store operation failed: bad URL, unreachable database, schema or integrity problem."""


class CampaignExists(StoreError):
    """A campaign of that name is already stored (names are unique per database)."""


class LeaseHeld(StoreError):
    """A live owner holds the campaign's lease (`Store.take_lease` refused)."""


class LeaseLost(StoreError):
    """Another owner took the campaign's lease: this one must stop without writing."""


def safe_url(url: URL | str) -> str:
    """The URL with its password replaced by ``***`` (text that is no URL: a placeholder)."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable database URL>"
    return url.render_as_string(hide_password=True)


def scrub(message: str, url: URL) -> str:
    """`message` with the URL's password (if any) replaced by ``***``."""
    if url.password:
        return message.replace(str(url.password), "***")
    return message


@contextmanager
def translated(action: str, url: URL) -> Iterator[None]:
    """Re-raise database and migration errors inside the block as `StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        if not isinstance(exc, SQLAlchemyError) and not _is_migration_error(exc):
            raise
        orig = getattr(exc, "orig", None) or exc
        detail = " ".join(str(orig).split())  # one line, without the SQL and its parameters
        leaked = bool(url.password) and str(url.password) in str(exc)
        error = StoreError(f"{action} failed ({safe_url(url)}): {scrub(detail, url)}")
        if leaked:
            raise error from None
        raise error from exc


def _is_migration_error(exc: Exception) -> bool:
    """Alembic's CommandError, told without importing Alembic: if it is not imported, nothing
    raised one (most commands never migrate)."""
    alembic_util = sys.modules.get("alembic.util")
    return alembic_util is not None and isinstance(exc, alembic_util.CommandError)
