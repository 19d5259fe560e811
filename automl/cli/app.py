"""The `automl` command: the verbs of this package, then those plug-ins add (entry-point group
``automl.cli``: the Ray layer's `submit` and `stop`), registered on one Typer app."""

from __future__ import annotations

import typer

from automl import plugins
from automl.cli import campaigns, programs, query, workflows
from automl.cli.common import error_console

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
    app()
