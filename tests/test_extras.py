"""The base install and its extras: what the base install runs without the extras' libraries,
and the one line a command prints when it needs a library that is not installed.

Each test runs `automl` in a fresh interpreter where the extras' libraries cannot be imported
(a meta-path finder refuses them, as if they were not installed), so the test is of the real
console entry point, not of a mocked import.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTRAS_LIBRARIES = ("jax", "jaxlib", "ray", "sklearn", "psycopg", "matplotlib", "optax")

# runs `automl` (sys.argv[2:]) with the comma-separated modules of sys.argv[1] unimportable,
# then reports which of them something *tried* to import, on the last line of stderr
RUNNER = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))
tried = []
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
# find_spec-based checks (automl.extras.require) must see the libraries as absent too
import importlib.util
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: (
    None if name.partition(".")[0] in blocked else _find_spec(name, *a))
sys.argv = ["automl", *sys.argv[2:]]
from automl.cli.app import main
try:
    main()
finally:
    print("tried:" + ",".join(sorted({t.partition(".")[0] for t in tried})), file=sys.stderr)
"""


def automl_without(blocked: tuple[str, ...], *args: str, cwd: Path = ROOT
                   ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUNNER, ",".join(blocked), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("tried:")]


def test_base_install_declares_no_extra_library():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"])
    for library in ("ray", "jax", "scikit-learn", "psycopg", "matplotlib"):
        assert library not in base, f"{library} is in the base install"
    extras = project["optional-dependencies"]
    assert {"ray", "jax", "optimizers", "evonorm", "postgres", "plots", "all"} <= set(extras)
    assert any("ray" in requirement for requirement in extras["ray"])
    assert any("psycopg" in requirement for requirement in extras["postgres"])
    assert any("matplotlib" in requirement for requirement in extras["plots"])


def test_demo_campaign_runs_on_the_base_install(tmp_path):
    """The quick start's campaign (AutoNumerics, float64, local executor, SQLite) and the
    read commands after it need none of the extras' libraries, and do not even try them."""
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    run = automl_without(EXTRAS_LIBRARIES, "run", "configs/autonumerics_exp2.yaml",
                         "--max-evals", "12", "--db", db, "--name", "light")
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines()[-1] == "tried:"
    for command in (["status", "light", "--db", db], ["pareto", "light", "--db", db]):
        result = automl_without(EXTRAS_LIBRARIES, *command)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stderr.splitlines()[-1] == "tried:", command


@pytest.mark.parametrize(("blocked", "args", "extra"), [
    (("jax", "jaxlib"), ["eval", "--space", "optimizers", "FILE"], "optimizers"),
    (("sklearn",), ["eval", "--space", "evonorm",
                    "search_spaces/evonorm/discovered/bn_signed_log_std.dsl"], "evonorm"),
    (("psycopg",), ["ls", "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/test"],
     "postgres"),
])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, blocked, args, extra):
    program = tmp_path / "p.dsl"
    program.write_text("f = x\n")
    result = automl_without(blocked, *[str(program) if a == "FILE" else a for a in args])
    assert result.returncode == 2, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and f"'automl-evolution[{extra}]'" in lines[0]
    assert blocked[0] in lines[0]


def test_a_campaign_needing_a_missing_extra_stops_before_evaluating(tmp_path):
    """float32 AutoNumerics needs jax: the campaign says so before any candidate, instead of
    storing every candidate as failed with an import error."""
    db = tmp_path / "f32.db"
    result = automl_without(("jax", "jaxlib"), "run", "configs/autonumerics_exp2_float32.yaml",
                            "--max-evals", "4", "--db", f"sqlite:///{db}")
    assert result.returncode == 2, result.stderr
    assert error_lines(result) == [
        "error: search space 'autonumerics' with these settings needs jax, which is not "
        "installed: pip install 'automl-evolution[jax]' (in a checkout: pip install -e "
        "'.[jax]')"]
    import sqlite3

    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM evaluations").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM candidates").fetchone() == (0,)


def test_the_ray_executor_names_its_extra(tmp_path):
    result = automl_without(("ray",), "run", "configs/autonumerics_exp2.yaml", "--executor",
                            "ray", "--max-evals", "4", "--db",
                            f"sqlite:///{tmp_path / 'r.db'}")
    assert result.returncode == 2, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1 and "executor 'ray' needs ray" in lines[0], result.stderr
    assert "'automl-evolution[ray]'" in lines[0]


# runs `automl` (sys.argv[1:]) and reports, on the last line of stderr, the modules it loaded
LOADED = """
import sys
sys.argv = ["automl", *sys.argv[1:]]
from automl.cli.app import main
try:
    main()
finally:
    print("loaded:" + ",".join(sorted(sys.modules)), file=sys.stderr)
"""

# what the commands a user types most often must not load: each costs tens of milliseconds
# to seconds of start-up (the ORM ~60 ms, alembic ~1.5 s, jax and ray seconds), and `--help`
# and `ls` need none of it (the `workers.cli` plug-in that adds `submit` and `stop` is light:
# it imports ray only when one of them runs)
HEAVY = ("jax", "ray", "alembic", "sqlalchemy.orm", "scipy", "sklearn", "matplotlib",
         "search_spaces", "psycopg")


@pytest.mark.slow
@pytest.mark.parametrize("command", [["--help"], ["ls"], ["ls", "--json"]])
def test_the_everyday_commands_load_nothing_heavy(tmp_path, command):
    db = f"sqlite:///{tmp_path / 'ls.db'}"
    run = subprocess.run([sys.executable, "-m", "automl", "run", "configs/autonumerics_exp2.yaml",
                          "--max-evals", "6", "--db", db, "--name", "listed"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    arguments = command if command == ["--help"] else [*command, "--db", db]
    result = subprocess.run([sys.executable, "-c", LOADED, *arguments],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    if command[0] == "ls":
        assert "listed" in result.stdout
    loaded = set(result.stderr.splitlines()[-1].removeprefix("loaded:").split(","))
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY))
    assert heavy == [], f"automl {' '.join(command)} loaded {heavy}"
