"""The `automl` command as a user runs it: exit codes, one-line errors, --json output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automl import zoo
from automl.cli import app

REPOSITORY = Path(__file__).resolve().parents[1]
runner = CliRunner()

SMALL_CONFIG = """
name: small
space:
  name: autonumerics
  settings: {target: exp2, fit_constants: true, max_statements: 8}
evolution: {strategy: nsga2, population_size: 12}
budget: {max_evaluations: 40}
executor: {kind: local, batch_size: 4}
"""


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOML_DB", raising=False)
    (tmp_path / "small.yaml").write_text(SMALL_CONFIG)
    return tmp_path


def test_default_names_can_be_typed_back(workdir):
    """Without --name a campaign is `<config name>-N`, N counting up per database; --name is
    still free."""
    db = f"sqlite:///{workdir / 'names.db'}"
    names = []
    for extra in ([], [], ["--name", "mine"], []):
        result = invoke("run", "small.yaml", "--db", db, "--json", "--max-evals", "2", *extra)
        assert result.exit_code == 0, result.output
        names.append(json.loads(result.stdout)["campaign"])
    assert names == ["small-1", "small-2", "mine", "small-3"]
    assert invoke("status", "small-2", "--db", db).exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("columns", [100, 80, 40])
def test_tables_never_cut_what_one_copies(workdir, columns):
    """At 80 columns (and narrower) `ls` shows whole campaign names and `zoo` whole file
    paths: a table when they fit, lines otherwise, never an ellipsis in them."""
    db = f"sqlite:///{workdir / 'wide.db'}"
    # words: rich measures a cell by its longest word, so only a min width keeps it whole
    name = "a campaign name one copies with several words in it " + "x" * 16
    assert invoke("run", "small.yaml", "--db", db, "--max-evals", "2", "--name", name
                  ).exit_code == 0
    environment = {**os.environ, "COLUMNS": str(columns)}
    for command, copied in ((["ls", "--db", db], [name]),
                            (["zoo"], [e.relative_path for e in zoo.entries()])):
        shown = subprocess.run([sys.executable, "-m", "automl", *command], cwd=REPOSITORY,
                               env=environment, capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert all(len(line.rstrip()) <= max(columns, *map(len, copied)) for line in lines)
        for value in copied:
            assert any(value in line for line in lines), (command, value)
        assert "…" not in "".join(line for line in lines if any(v[:8] in line for v in copied))


@pytest.mark.slow
def test_run_then_ls_and_status_read_the_same_campaign(workdir):
    db = f"sqlite:///{workdir / 'runs.db'}"
    result = invoke("run", "small.yaml", "--db", db, "--json", "--seed", "5", "--name", "c1")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["campaign"] == "c1" and summary["status"] == "finished"
    assert summary["evaluations"] == 40
    front = summary["front"]
    assert front and all("max_relative_error" in m["objectives"] for m in front)
    costs = [m["objectives"]["cost"] for m in front]
    errors = [m["objectives"]["max_relative_error"] for m in front]
    # best first by the first objective, as `automl pareto` lists it; on a front the other
    # objective then only gets worse
    assert errors == sorted(errors) and costs == sorted(costs, reverse=True)

    listed = json.loads(invoke("ls", "--db", db, "--json").stdout)
    assert [(c["name"], c["seed"], c["status"]) for c in listed] == [("c1", 5, "finished")]
    assert listed[0]["candidates"] == summary["candidates"]

    status = json.loads(invoke("status", "c1", "--db", db, "--json").stdout)
    assert status["candidates"] == summary["candidates"]
    assert sum(status["by_status"].values()) == summary["candidates"]
    assert status["best"]["max_relative_error"] == pytest.approx(min(errors))
    table = invoke("status", str(summary["id"]), "--db", db)
    assert table.exit_code == 0 and "cache hit rate" in table.stdout


def test_names_with_rich_markup_characters_print_verbatim(workdir):
    db = f"sqlite:///{workdir / 'runs.db'}"
    result = invoke("run", "small.yaml", "--db", db, "--max-evals", "5", "--name", "[/oops]")
    assert result.exit_code == 0, result.output
    listed = invoke("ls", "--db", db)
    assert listed.exit_code == 0 and "[/oops]" in listed.stdout


@pytest.mark.slow
def test_reading_commands_never_create_a_database_on_a_mistyped_path(workdir):
    """`ls`, `status` and `automl.open` on a path with no database say so, and leave no empty
    database behind (which the next `ls` would list as holding no campaigns)."""
    import automl
    from automl.store import StoreError

    for args in (["ls"], ["status", "c1"], ["resume", "c1"], ["pareto", "c1"], ["top", "c1"]):
        result = invoke(*args, "--db", "sqlite:///typo.db")
        assert result.exit_code == 2, (args, result.output)
        assert "no SQLite database at 'typo.db'" in result.output, args
    with pytest.raises(StoreError, match="no SQLite database"):
        automl.open("sqlite:///typo.db")
    assert not (workdir / "typo.db").exists()

    db = f"sqlite:///{workdir / 'runs.db'}"
    assert invoke("run", "small.yaml", "--db", db, "--max-evals", "4", "--name", "c1"
                  ).exit_code == 0
    missing = invoke("status", "nope", "--db", db)
    assert missing.exit_code == 2 and "no campaign 'nope'" in missing.output
    assert invoke("ls", "--db", db).exit_code == 0


@pytest.mark.slow
def test_max_evals_overrides_the_config_budget(workdir):
    db = f"sqlite:///{workdir / 'runs.db'}"
    result = invoke("run", "small.yaml", "--db", db, "--json", "--max-evals", "15")
    assert json.loads(result.stdout)["evaluations"] == 15


def test_hash_is_functional_and_eval_prints_objectives(workdir):
    (workdir / "a.dsl").write_text("# Horner\nf = c0 + x * (c1 + x * c2)\n")
    (workdir / "b.dsl").write_text("t = x * x\nu = c2 * t\nf = u + (c1 * x + c0)\n")
    (workdir / "c.dsl").write_text("f = c0 + x * c1\n")
    hashes = [invoke("hash", "--space", "autonumerics", f"{n}.dsl").stdout.strip()
              for n in "abc"]
    assert len(hashes[0]) == 32 and int(hashes[0], 16) >= 0
    assert hashes[0] == hashes[1] != hashes[2]

    result = invoke("eval", "--space", "autonumerics", "a.dsl", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["objectives"]["cost"] == 4
    # a fitted quadratic for 2^x on [0,1]: well under 1% but nowhere near machine precision
    assert 1e-5 < payload["objectives"]["max_relative_error"] < 1e-2
    assert set(payload["metrics"]["constants"]) == {"c0", "c1", "c2"}


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["run", "missing.yaml"], {}, "missing.yaml: cannot read config"),
        (["run", "bad.yaml"], {"bad.yaml": "space: {name: autonumerics}\nbudget: {max_evals: 3}\n"},
         "bad.yaml:2: budget.max_evals: unknown field"),
        (["run", "small.yaml", "--db", "mysql://nobody@127.0.0.1/x"], {}, "error:"),
        (["run", "small.yaml", "--db", "postgresql+psycopg://u:hunter2@127.0.0.1:1/x"], {},
         "error:"),
        (["hash", "--space", "autonumerics", "p.dsl"], {"p.dsl": "f = x +\n"},
         "p.dsl:1:8: expected an expression, found end of line"),
        (["eval", "--space", "autonumerics", "p.dsl"], {"p.dsl": "f = exp(x)\n"},
         "p.dsl:1:5: unknown op 'exp'"),
        (["hash", "--space", "nowhere", "p.dsl"], {"p.dsl": "f = x\n"},
         "unknown search space 'nowhere'"),
        (["status", "nope", "--db", "sqlite:///runs.db"], {},
         "no SQLite database at 'runs.db' (`automl run` creates one"),
        (["eval", "--space", "autonumerics", "p.dsl"], {"p.dsl": "f = x * 1e999\n"},
         "p.dsl:1:9: number 1e999 is out of range"),
        (["hash", "--space", "autonumerics", "p.dsl"],
         {"p.dsl": "f = " + "(" * 3000 + "x" + ")" * 3000 + "\n"}, "nested too deeply"),
        (["hash", "--space", "autonumerics", "p.dsl", "--set", "target=nope"],
         {"p.dsl": "f = x\n"}, "autonumerics settings: target: unknown target 'nope'"),
        (["run", "b.yaml", "--max-evals", "3"],
         {"b.yaml": "space: {name: autonumerics}\nbudget: 5\n"}, "budget is not a mapping"),
        (["run", "small.yaml", "--seed", "-3"], {}, "seed: Input should be greater than or"),
        (["run", "o.yaml"], {"o.yaml": "space: {name: autonumerics}\nevolution: "
                                       "{strategy: regularized, objective: speed}\n"},
         "o.yaml:2: evolution.objective: unknown objective 'speed'; allowed: max_relative_"),
        (["run", "m.yaml"], {"m.yaml": "space: {name: autonumerics}\n"
                                       "evolution: {strategy: '[/x]'}\n"}, "(got '[/x]')"),
    ],
)
def test_user_errors_are_one_line_without_traceback(workdir, args, files, message):
    for name, text in files.items():
        (workdir / name).write_text(text)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert "hunter2" not in result.output


def test_a_candidate_that_fails_evaluation_exits_1_with_the_reason(workdir):
    (workdir / "nan.dsl").write_text("z = x - x\nf = x / z\n")
    result = invoke("eval", "--space", "autonumerics", "nan.dsl", "--json")
    assert result.exit_code == 1
    assert "pole inside [0, 1]: the denominator of f = x / z" in \
        json.loads(result.stdout)["error"]


@pytest.mark.parametrize(("space", "setting", "field"), [
    ("autonumerics", "target={function: 'no_such_module_here:f', interval: [0, 1]}", "target"),
    ("optimizers", "tasks=[no_such_module_here:make_task]", "tasks"),
])
def test_eval_with_a_plugin_that_names_nothing_is_a_usage_error(workdir, space, setting, field):
    """Like a campaign config (`automl.config`), `eval` and `hash` try the user plug-ins
    their settings name before anything runs: one line naming the setting, exit 2, not a
    failed evaluation."""
    (workdir / "p.dsl").write_text("f = x * x\n" if space == "autonumerics" else
                                   "m = interp(g, m, 0.9)\nu = sign(m)\n")
    for verb in ("eval", "hash"):
        result = invoke(verb, "p.dsl", "--space", space, "--set", setting)
        assert result.exit_code == 2, (verb, result.output)
        line = result.output.strip()
        assert "\n" not in line and line.startswith(f"error: --set {field}: "), line
        assert "no_such_module_here" in line


@pytest.mark.slow
def test_console_script_runs_a_real_campaign_in_a_subprocess(workdir):
    """The installed `automl` entry point, as in the README quick start (with a smaller budget)."""
    executable = Path(sys.executable).with_name("automl")
    assert executable.exists(), "pip install -e . installs the automl console script"
    environment = {**os.environ, "AUTOML_DB": f"sqlite:///{workdir / 'sub.db'}"}
    completed = subprocess.run(
        [str(executable), "run", str(REPOSITORY / "configs" / "autonumerics_exp2.yaml"),
         "--max-evals", "30"],
        capture_output=True, text=True, env=environment, timeout=300, cwd=workdir)
    assert completed.returncode == 0, completed.stderr
    assert "Pareto front" in completed.stdout
    assert "finished" in completed.stdout
    assert (workdir / "sub.db").exists()


@pytest.mark.slow
def test_ctrl_c_stops_a_running_campaign_with_everything_stored(workdir):
    """A real SIGINT to a real `automl run`: exit 130, status 'stopped', nothing half-written."""
    import signal
    import time

    from automl.store import Store

    executable = Path(sys.executable).with_name("automl")
    database = workdir / "interrupted.db"
    (workdir / "long.yaml").write_text(SMALL_CONFIG.replace("max_evaluations: 40",
                                                            "max_evaluations: 100000"))
    process = subprocess.Popen(
        [str(executable), "run", "long.yaml", "--db", f"sqlite:///{database}", "--name", "long"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and stored == 0:
            time.sleep(0.5)
            if process.poll() is not None:  # it died: say why instead of waiting two minutes
                pytest.fail(f"automl run exited {process.returncode}: {process.stderr.read()}")
            if database.exists():
                try:
                    with Store.open(f"sqlite:///{database}") as store:
                        stored = len(store.load_candidates(store.get_campaign("long").id))
                except Exception:
                    stored = 0  # campaign row not there yet
        assert stored > 0, "the campaign flushed rows within two minutes"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "stopped" in stdout and "Pareto front" in stdout
    with Store.open(f"sqlite:///{database}") as store:
        record = store.get_campaign("long")
        candidates = store.load_candidates(record.id)
        evaluations = store.load_evaluations(record.id)
    assert record.status == "stopped"
    assert len(candidates) >= stored
    assert [c.number for c in candidates] == list(range(len(candidates)))
    evaluated = {c.number for c in candidates if c.status != "duplicate"}
    # cache hits stored under their own cost have a row written by the worker "cache"
    assert evaluated == {e.candidate_number for e in evaluations if e.worker != "cache"}


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "small.yaml", "--max-evals", "-5"],
     "error: --max-evals: Input should be greater than or equal to 1 (got -5)"),
    (["run", "small.yaml", "--executor", "foo"],
     "error: --executor: unknown executor; allowed: local, ray (got 'foo')"),
    (["hash", "missing.dsl", "--space", "autonumerics"],
     "error: missing.dsl: no such file or directory"),
    (["reproduce", "search_spaces/autonumerics/discovered/missing.dsl"],
     "error: search_spaces/autonumerics/discovered/missing.dsl: no such file (nor a "
     "candidate reference CAMPAIGN:NUMBER)"),
    (["export", "missing.dsl", "--space", "autonumerics"],
     "error: missing.dsl: no such file (nor a candidate reference CAMPAIGN:NUMBER)"),
])
def test_errors_name_the_option_or_file_that_is_wrong(workdir, args, expected):
    """A bad command-line value is blamed on its option, not on a line of the config file;
    a missing file is named as missing, not parsed as something else."""
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.output.strip() == expected


def test_a_misspelled_space_setting_lists_the_settings_of_that_space(workdir):
    (workdir / "bad.yaml").write_text("space:\n  name: autonumerics\n  settings: {targt: exp2}\n")
    result = invoke("run", "bad.yaml")
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith("error: bad.yaml:3: space.settings.targt: unknown field (allowed: ")
    assert "target" in line and "fit_constants" in line and "evolution" not in line


@pytest.mark.slow
@pytest.mark.parametrize(("args", "expected"), [
    (["run", "small.yaml", "--max-evals", "abc"],
     "error: automl run: Invalid value for '--max-evals': Input should be a valid integer, "
     "unable to parse string as an integer"),
    (["hash", "small.yaml"], "error: automl hash: Missing option '--space'."),
    (["nosuchcommand"], "error: automl: No such command 'nosuchcommand'."),
])
def test_command_line_mistakes_are_one_line_and_exit_2(workdir, args, expected):
    """The console script (not the test runner's standalone mode): no boxed usage text."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "COLUMNS": "200"}
    completed = subprocess.run([sys.executable, "-c", "from automl.cli import main; main()",
                                *args], cwd=workdir, env=environment, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip() == expected and completed.stdout == ""
