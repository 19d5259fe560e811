"""What every `automl` command shares: consoles, the one-line user-error convention, the common
options, and how a database URL and a program file are found.

User errors (bad config, program text, database URL, unknown space) print one line,
``error: ...``, and exit with status 2; no traceback.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from automl.defaults import DEFAULT_DATABASE, database_url  # noqa: F401 - used by the verbs
from automl.progress_bar import format_value  # noqa: F401 - used by the verbs

if TYPE_CHECKING:  # the command line imports these when a command runs, not to show --help
    from automl.results import Results
    from automl.space import SearchSpace
    from automl.store import Store

console = Console()
error_console = Console(stderr=True, soft_wrap=True)  # errors stay on one line


def user_error_types() -> tuple[type[Exception], ...]:
    """What a user's mistake raises (bad config, program text, database URL, unknown plug-in,
    missing file): printed as one line with exit status 2, never as a traceback."""
    from automl.config import ConfigError
    from automl.extras import MissingExtraError
    from automl.ir import ProgramError
    from automl.plugins import UnknownPluginError
    from automl.store import StoreError

    return (ConfigError, StoreError, ProgramError, UnknownPluginError, MissingExtraError,
            ValueError, OSError)


def as_user_error(error: Exception) -> Exception | None:
    """`error` as the user error it is (a library of an extra that is not installed becomes a
    `MissingExtraError` naming the extra), or None for a bug."""
    from automl.extras import missing_extra

    missing = missing_extra(error)
    if missing is not None:
        return missing
    return error if isinstance(error, user_error_types()) else None

DatabaseOption = Annotated[str | None, typer.Option(
    "--db", help=f"Database URL (default: $AUTOML_DB or {DEFAULT_DATABASE}).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SpaceOption = Annotated[str, typer.Option("--space", help="Search space name.")]
SettingsOption = Annotated[list[str], typer.Option(
    "--set", help="Space setting KEY=VALUE (repeatable).")]
FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="DSL program file.")]
CampaignArgument = Annotated[str, typer.Argument(metavar="CAMPAIGN", help="Campaign name or id.")]


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        known = as_user_error(error)
        if known is None:
            raise
        error_console.print(f"[bold red]error:[/] {escape(describe(known))}", highlight=False)
        raise typer.Exit(2) from None


def describe(error: Exception) -> str:
    """One line for a user error; a file the system could not open is named first
    (``out/front.png: no such file or directory``), not as ``[Errno 2] ...``."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror[0].lower()}{error.strerror[1:]}"
    return str(error)


def open_store(url: str, create: bool = False, verify: bool = False,
               copy_tables: bool = False) -> Store:
    """The store at `url`. Only commands that write a campaign (or `db upgrade`) `create` a
    missing SQLite file (and its directory: `automl.api.make_sqlite_directory`); the others
    say it is missing. With `verify` a damaged SQLite file is refused before anything writes
    (`Store.open`)."""
    from automl.api import make_sqlite_directory
    from automl.store import Store

    if create:
        make_sqlite_directory(url)
    return Store.open(url, create=create, verify=verify, copy_tables=copy_tables)


def open_results(url: str) -> Results:
    """`automl.open(url)`: read access to the results at `url` (it must exist)."""
    from automl.results import open as open_database

    return open_database(url)


def file_or_reference(target: str) -> Path | None:
    """`target` as an existing file, or None when it is a candidate reference
    (``CAMPAIGN:NUMBER``); ValueError when it is neither (a mistyped file name)."""
    path = Path(target)
    if path.is_file():
        return path
    if re.fullmatch(r".+:\d+", target):
        return None
    raise ValueError(f"{target}: no such file (nor a candidate reference CAMPAIGN:NUMBER)")


def campaign_key(campaign: str) -> int | str:
    """A campaign argument as the store looks it up: an id when it is all digits."""
    return int(campaign) if campaign.isdigit() else campaign


def print_table(table: Table, whole: tuple[str, ...] = ()) -> None:
    """Print `table` without ever cutting a value of the columns headed `whole` (campaign
    names, file paths: what one copies from a table). Those columns do not wrap, the others
    give way; when the console is too narrow even so, each row prints as lines instead: the
    whole values first, then ``header: value``, indented."""
    from rich.measure import Measurement
    from rich.text import Text

    def fits() -> bool:
        needed = Measurement.get(console, console.options.update_width(10**6), table).minimum
        return needed <= console.width

    for column in table.columns:
        if column.header in whole:  # rich measures a cell by its longest word: say the whole
            column.no_wrap = True
            column.min_width = max((Text.from_markup(cell).cell_len if isinstance(cell, str)
                                    else Measurement.get(console, console.options, cell).maximum
                                    for cell in column.cells), default=0)
    if fits():
        console.print(table)
        return
    # compact: no rules, one space between columns
    table.box, table.padding = None, (0, 1, 0, 0)
    table.pad_edge = table.show_edge = False
    if fits():
        console.print(table)
        return
    if table.title:
        console.print(table.title, highlight=False)
    cells = [list(column.cells) for column in table.columns]
    for row in zip(*cells, strict=True):
        named = list(zip(table.columns, row, strict=True))
        console.print(*[value for column, value in named if column.header in whole],
                      highlight=False, soft_wrap=True)
        for column, value in named:
            if column.header not in whole:
                console.print(f"    {column.header}: ", value, sep="", highlight=False)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return str(value)


def one_line(program: str) -> str:
    return "; ".join(line for line in program.strip().splitlines())


def parse_pairs(pairs: list[str], flag: str) -> dict[str, Any]:
    """``FLAG KEY=VALUE`` pairs as a mapping (values read as YAML scalars or flow lists)."""
    import yaml

    values: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"{flag} expects KEY=VALUE, got {pair!r}")
        values[key.strip()] = yaml.safe_load(value)
    return values


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs: space settings."""
    return parse_pairs(pairs, "--set")


def load_program(space_name: str, file: Path, settings: list[str]) -> tuple[SearchSpace, Any]:
    from automl.imports import PluginError
    from automl.plugins import get_space

    space = get_space(space_name, parse_settings(settings))
    try:  # a user plug-in the settings name (a task, a target) that cannot work: a user error
        space.settings.check_plugins()
    except PluginError as error:
        raise PluginError(error.field, f"--set {'.'.join(error.field)}: {error}") from None
    text = file.read_text()
    return space, space.parse(text, str(file))
