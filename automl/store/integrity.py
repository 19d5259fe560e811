"""Is a SQLite file sound? ``PRAGMA quick_check`` before a command writes into an existing
file (`automl run`, `automl resume`: `Store.open(..., verify=True)`), and the slower
``PRAGMA integrity_check`` for `automl db check`.

Both open the file with the plain `sqlite3` module, before SQLAlchemy, the migrations or the
WAL switch can touch it, and only read. PostgreSQL checks its own pages (checksums, amcheck):
nothing to do here for it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL

from .engine import sqlite_file
from .errors import StoreError

MAX_PROBLEMS = 20  # what a check reports at most (integrity_check's own default is 100)
# what SQLite says of a damaged file: SQLITE_CORRUPT (11), SQLITE_NOTADB (26, a header
# overwritten); anything else (locked, busy, cannot open) says nothing of the file's pages
DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def _not_checked(path: Path, error: sqlite3.Error) -> StoreError:
    return StoreError(f"SQLite database {str(path)!r} could not be checked: {error}")


def sqlite_problems(path: Path, full: bool = False, limit: int = MAX_PROBLEMS,
                    busy_timeout: float = 30.0) -> list[str]:
    """What ``quick_check`` (or with `full`, ``integrity_check``) finds wrong in the SQLite
    file at `path`, at most `limit` lines; [] when it is sound. A file that is not a database
    at all (its header overwritten) is one problem too. `StoreError` when it cannot be
    checked (locked by another process, cannot be opened): that is no verdict on the file."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        # read only: nothing here may write into a file that may be damaged
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=busy_timeout)
    except sqlite3.Error as error:
        raise _not_checked(path, error) from None
    try:
        rows = connection.execute(f"PRAGMA {pragma}({int(limit)})").fetchall()
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorcode", None) not in DAMAGE_CODES:
            raise _not_checked(path, error) from None  # busy, locked, cannot open: not damage
        return [str(error)]
    finally:
        connection.close()
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def refuse_damaged(url: URL) -> None:
    """`StoreError` (one line) when `url` names an existing SQLite file that
    ``quick_check`` finds damaged: nothing must be written into it."""
    path = sqlite_file(url)
    if path is None or not path.exists():
        return
    problems = sqlite_problems(path)
    if problems:
        raise StoreError(damage_message(path, problems, "refusing to write into it"))


def damage_message(path: Path, problems: list[str], consequence: str) -> str:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (f"SQLite database {str(path)!r} is damaged: {problems[0]}{more}; {consequence} "
            f"(`automl db check` lists the damage; restore a backup or copy the readable "
            f"campaigns out)")
