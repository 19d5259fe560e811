"""`automl db check`: is the database sound? For a SQLite file, ``PRAGMA integrity_check``
(every page, every index against its table; slower than the ``quick_check`` that `run` and
`resume` do before writing). Exit status 0 when sound, 1 when damaged (the problems listed,
at most 20), 2 for a bad --db. PostgreSQL checks its own pages (data checksums, amcheck), so
there only the connection and the schema revision are checked."""

from __future__ import annotations

import typer
from rich.markup import escape

from automl.cli.common import (
    DatabaseOption,
    JsonOption,
    console,
    database_url,
    error_console,
    print_json,
    user_errors,
)


def check(db: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Check the database for damage (SQLite: integrity_check); exit 1 when damaged."""
    from automl.store import Store, safe_url
    from automl.store.engine import parse_url, require_existing_database, sqlite_file
    from automl.store.integrity import sqlite_problems

    with user_errors():
        url = database_url(db)
        parsed = parse_url(url)
        require_existing_database(parsed)
        path = sqlite_file(parsed)
        if path is not None:
            problems = sqlite_problems(path, full=True)
            check_name = "integrity_check"
        else:  # PostgreSQL (or in-memory SQLite): the server keeps its own pages sound
            with Store.open(url, create=False, auto_upgrade=False) as store:
                revision = store.schema_revision()
            problems, check_name = [], f"connected, schema revision {revision}"
    shown = safe_url(url)
    if as_json:
        print_json({"database": shown, "check": check_name, "ok": not problems,
                    "problems": problems})
    elif problems:
        error_console.print(f"[bold red]damaged:[/] {escape(shown)} ({check_name}: "
                            f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
                            f"{', the first 20' if len(problems) >= 20 else ''})",
                            highlight=False)
        for problem in problems:
            console.print(f"  {escape(problem)}", highlight=False, soft_wrap=True)
    else:
        console.print(f"ok: {escape(shown)} ({check_name})", highlight=False)
    if problems:
        raise typer.Exit(1)
