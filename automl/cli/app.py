"""The `automl` command: the verbs of this package, then those plug-ins add (entry-point group
``automl.cli``: the Ray layer's `submit` and `stop`), registered on one Typer app."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from automl import plugins
from automl.cli import campaigns, db, programs, query, workflows
from automl.cli.common import error_console
from automl.extras import missing_extra

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evolutionary AutoML search over program spaces.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")

app.command()(campaigns.run)
app.command()(campaigns.resume)
app.command("ls")(campaigns.list_campaigns)
app.command()(campaigns.status)
app.command("hash")(programs.hash_command)
app.command("eval")(programs.eval_command)
app.command("baselines")(programs.baselines_command)
db_app.command("upgrade")(programs.db_upgrade)
db_app.command("check")(db.check)
for verb in (query.top, query.pareto, query.show, query.lineage, query.export, query.reproduce,
             query.report, query.compare, query.zoo):
    app.command()(verb)
app.command()(workflows.validate)
app.command()(workflows.front)
for name in plugins.CLI.names():
    try:  # one broken plug-in must not take every other command down with it
        plugins.CLI.load(name)(app)
    except Exception as error:
        error_console.print(f"[yellow]warning:[/] command-line plug-in {name!r} not loaded: "
                            f"{type(error).__name__}: {error}", highlight=False)


def main() -> None:
    """The console script: a mistake on the command line (a missing option, a value of the
    wrong type) is one line naming the option and exit status 2, like every user error."""
    try:
        code = app(standalone_mode=False, prog_name="automl")
    except typer.Abort:
        error_console.print("aborted", highlight=False)
        sys.exit(1)
    except Exception as error:
        if not hasattr(error, "format_message") or not hasattr(error, "exit_code"):
            missing = missing_extra(error)  # an extra's library, outside a command's own guard
            if missing is None:
                raise  # a bug: the traceback is what its report needs
            error_console.print(f"[bold red]error:[/] {escape(str(missing))}", highlight=False)
            sys.exit(2)
        context = getattr(error, "ctx", None)
        command = f"{context.command_path}: " if context is not None else ""
        error_console.print(f"[bold red]error:[/] {escape(command + error.format_message())}",
                            highlight=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
