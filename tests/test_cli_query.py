"""The query verbs as a user runs them: top, pareto, show, lineage, export, reproduce,
compare, zoo (exit codes, --json payloads, one-line errors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from automl.cli import app
from automl.ir import run_numpy
from automl.plugins import get_space
from automl.zoo import read_entry
from tests.standalone import load_standalone

runner = CliRunner()

CONFIG = """
name: small
space:
  name: autonumerics
  settings: {target: exp2, fit_constants: true, max_statements: 8}
evolution: {strategy: nsga2, population_size: 12}
budget: {max_evaluations: 60}
executor: {kind: local, batch_size: 4}
"""


def invoke(*args: str):
    return runner.invoke(app, list(args))


def payload(*args: str):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("cli_query")
    (directory / "small.yaml").write_text(CONFIG)
    url = f"sqlite:///{directory / 'q.db'}"
    result = invoke("run", str(directory / "small.yaml"), "--db", url, "--name", "c1",
                    "--json")
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch):
    monkeypatch.delenv("AUTOML_DB", raising=False)


@pytest.mark.slow
def test_top_and_pareto(db):
    best = payload("top", "c1", "-k", "4", "--objective", "max_relative_error", "--db", db)
    errors = [c["objectives"]["max_relative_error"] for c in best]
    assert len(best) == 4 and errors == sorted(errors)
    status = payload("status", "c1", "--db", db)
    assert errors[0] == status["best"]["max_relative_error"]
    front = payload("pareto", "c1", "--db", db)
    front_errors = [c["objectives"]["max_relative_error"] for c in front]
    costs = [c["objectives"]["cost"] for c in front]
    assert front_errors == sorted(front_errors) and costs == sorted(costs, reverse=True)
    assert front_errors[0] == errors[0]
    table = invoke("pareto", "c1", "--db", db)
    assert table.exit_code == 0 and "Pareto front" in table.stdout


def test_show_and_lineage_describe_how_a_candidate_was_made(db):
    best = payload("top", "c1", "-k", "1", "--db", db)[0]
    shown = payload("show", best["candidate"], "--db", db)
    assert shown["program"] == best["program"] and shown["objectives"] == best["objectives"]
    assert shown["duplicates"] >= 0 and "constants" in shown["metrics"]
    chain = payload("lineage", best["candidate"], "--db", db)
    assert chain[0]["number"] == best["number"] and chain[-1]["parents"] == []
    for child, parent in zip(chain, chain[1:], strict=False):
        assert child["parents"][0] == parent["number"]
    human = invoke("show", best["candidate"], "--db", db)
    assert human.exit_code == 0 and best["program"].splitlines()[0] in human.stdout


def test_export_python_module_matches_the_stored_program(db, tmp_path):
    best = payload("top", "c1", "-k", "1", "--db", db)[0]
    assert invoke("export", best["candidate"], "--format", "dsl", "--db", db).stdout == \
        best["program"]
    target = tmp_path / "approx.py"
    result = invoke("export", best["candidate"], "--format", "python", "-o", str(target),
                    "--db", db)
    assert result.exit_code == 0, result.output
    module = load_standalone(target.read_text(), tmp_path, "approx", {"numpy"})
    space = get_space("autonumerics", {"target": "exp2", "fit_constants": True,
                                       "max_statements": 8})
    program = space.parse(best["program"])
    x = np.linspace(0.0, 1.0, 101)
    expected = run_numpy(program, {"x": x, **best["metrics"]["constants"]})["f"]
    np.testing.assert_allclose(module.f(x), expected, rtol=1e-15, atol=0)


def test_export_as_a_zoo_file_reproduces(db, tmp_path):
    best = payload("top", "c1", "-k", "1", "--db", db)[0]
    target = tmp_path / "best.dsl"
    result = invoke("export", best["candidate"], "--format", "zoo", "-o", str(target),
                    "--db", db)
    assert result.exit_code == 0, result.output
    entry = read_entry(target)
    assert entry.space == "autonumerics" and entry.settings["max_statements"] == 8
    assert entry.objectives == best["objectives"]
    assert entry.metrics["constants"] == best["metrics"]["constants"]
    assert f"reproduce: automl reproduce {target}" in target.read_text()
    outcome = payload("reproduce", str(target))
    assert outcome["ok"], outcome
    # a DSL file has no stored objectives to put in a header
    assert "stored candidate" in invoke("export", str(target), "--format", "zoo").output


def test_reproduce_passes_then_fails_when_the_record_is_off(db, tmp_path):
    best = payload("top", "c1", "-k", "1", "--db", db)[0]
    outcome = payload("reproduce", best["candidate"], "--db", db)
    assert outcome["ok"] and outcome["warnings"] == []
    assert all(o["reproduced"] == o["recorded"] for o in outcome["objectives"])

    # a copy of the database whose record says otherwise, and whose campaign ran elsewhere
    copy = tmp_path / "tampered.db"
    copy.write_bytes(Path(db.removeprefix("sqlite:///")).read_bytes())
    url = f"sqlite:///{copy}"
    engine = create_engine(url)
    with engine.begin() as conn:
        number = best["number"]
        conn.execute(text("UPDATE evaluations SET objectives = json_set(objectives, "
                          "'$.max_relative_error', 0.5) WHERE candidate_number = :n"),
                     {"n": number})
        conn.execute(text("UPDATE campaigns SET environment = json_set(environment, "
                          "'$.versions.numpy', '0.0.1')"))
    engine.dispose()
    result = invoke("reproduce", best["candidate"], "--db", url)
    assert result.exit_code == 1
    assert "differs" in result.stdout and "numpy 0.0.1 then" in result.output
    loose = invoke("reproduce", best["candidate"], "--db", url, "--rtol", "1e6")
    assert loose.exit_code == 0


def test_compare_puts_campaigns_side_by_side(db):
    rows = payload("compare", "c1", "1", "--db", db)
    assert [r["campaign"] for r in rows] == ["c1", "c1"]
    assert rows[0]["best"] == payload("status", "c1", "--db", db)["best"]
    assert rows[0]["hypervolume"] is not None and rows[0]["hypervolume"] > 0


@pytest.mark.parametrize("args, message", [
    (("show", "c1", "--db", "sqlite:///:memory:"), "expected CAMPAIGN:NUMBER"),
    (("lineage", "nope:3"), "no campaign 'nope'"),
    (("export", "c1:0", "--format", "rust"), "--format 'rust'"),
    (("top", "c1", "--objective", "speed"), "no objective 'speed'"),
])
def test_bad_input_is_one_line_naming_it(db, args, message):
    full = list(args) if "--db" in args else [*args, "--db", db]
    result = invoke(*full)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_zoo_files_list_and_a_broken_header_is_named(tmp_path):
    entries = payload("zoo")
    assert entries, "the project ships discovered programs"
    for entry in entries:
        assert Path(entry["file"]).exists() and entry["objectives"]
    broken = tmp_path / "broken.dsl"
    broken.write_text("# space: autonumerics\n# objectives: [1, 2]\nf = x\n")
    result = invoke("reproduce", str(broken))
    assert result.exit_code == 2 and "objectives' must be a mapping" in result.output


@pytest.mark.slow
def test_every_shipped_autonumerics_zoo_program_reproduces():
    """Every float64 entry through `automl reproduce`, and one float32 entry (its check on
    ~75,000 points and its timing take ~25 s each): the other float32 entries are re-evaluated
    the same way on fewer check points by
    `test_autonumerics_float32.test_every_shipped_float32_program_reproduces_on_fewer_check_points`."""
    entries = [e for e in payload("zoo") if e["space"] == "autonumerics"]
    float32_entries = sorted((e for e in entries if e["settings"].get("precision") == "float32"),
                             key=lambda e: e["file"])
    assert len(entries) > len(float32_entries) > 0
    entries = [e for e in entries if e not in float32_entries[1:]]
    for entry in entries:
        outcome = payload("reproduce", entry["file"])
        assert outcome["ok"], outcome
        # a float32 entry's time beside jnp.exp2 is shown, not compared (it is wall-clock)
        measured = {c["name"] for c in outcome["objectives"] if c["measured"]}
        float32_mode = entry["settings"].get("precision") == "float32"
        assert measured == ({"relative_time"} if float32_mode else set())


# the optimizer entries made on the minibatch tasks (evaluator version 6): each trained again.
# The two full-batch entries of before are not: on a CPU of another kind they train one task
# up to 6.7% away from their headers (below), and the ~60 s they took kept CI over its time
# budget; their headers are still read and checked by the test after this one.
MINIBATCH_ZOO = ("search_spaces/optimizers/discovered/adamw_short_momentum.dsl",)


@pytest.mark.slow
@pytest.mark.parametrize("path", MINIBATCH_ZOO)
def test_every_minibatch_optimizer_zoo_program_reproduces(path):
    """Each header's settings must say everything its scores depend on: when the default
    schedule became warmup-cosine, headers without `lr_schedule` stopped reproducing. Trained
    on the proxies only (a third of `automl reproduce`'s time, which adds the 4-10x larger
    funnel): a program that passed the funnel scores its proxy ratio, so every recorded
    objective must come back; one whose score the funnel set would not."""
    from automl.plugins import get_space
    from automl.zoo import read_entry

    zoo = read_entry(Path(path))
    space = get_space("optimizers", {**zoo.settings, "funnel_tasks": []})
    (evaluation,) = space.evaluate([space.parse(zoo.program, path)])
    assert evaluation.ok, evaluation.error
    assert set(evaluation.objectives) == set(zoo.objectives)
    # Training in float32 is exact on the kind of CPU a file was made on, not across kinds: on
    # a Xeon with AVX512-FP16 (2026-12-08) the two full-batch entries made elsewhere trained
    # mlp_digits to a loss 0.7% and 6.7% off what they record (every other task to the last
    # bit), while the entry made there reproduced exactly. Off the recording machine each
    # objective must still be within 10%: a wrong program, setting or task is further off.
    exact = all(evaluation.objectives[name] == pytest.approx(recorded, rel=1e-6)
                for name, recorded in zoo.objectives.items())
    if not exact:
        for name, recorded in zoo.objectives.items():
            assert evaluation.objectives[name] == pytest.approx(recorded, rel=0.1), (path, name)


def test_every_optimizer_zoo_header_names_its_settings_and_parses():
    from automl.plugins import get_space
    from automl.zoo import read_entry

    entries = [e for e in payload("zoo") if e["space"] == "optimizers"]
    assert set(MINIBATCH_ZOO) < {e["file"] for e in entries}
    for entry in entries:
        zoo = read_entry(Path(entry["file"]))
        space = get_space("optimizers", zoo.settings)
        assert "lr_schedule" in zoo.settings  # the default changed once: headers say theirs
        space.parse(zoo.program, entry["file"])
        assert set(zoo.objectives) == {o.name for o in space.objectives}


def test_a_wall_clock_objective_is_shown_but_never_fails_a_reproduction():
    from automl.reproduce import Reproduction, compare

    def outcome(reproduced: dict) -> Reproduction:
        recorded = {"max_ulp_error": 0.75, "relative_time": 0.62}
        return Reproduction("entry", "f = x", compare(recorded, reproduced, 1e-6,
                                                      frozenset({"relative_time"})))

    slower = outcome({"max_ulp_error": 0.75, "relative_time": 0.9})
    assert slower.ok and [c.measured for c in slower.checks] == [False, True]
    assert not outcome({"max_ulp_error": 0.76, "relative_time": 0.62}).ok
    # with only measured objectives nothing was compared: not a reproduction
    assert not Reproduction("entry", "f = x", compare({"t": 1.0}, {"t": 1.0}, 1e-6,
                                                      frozenset({"t"}))).ok


@pytest.mark.slow
def test_pareto_plot_and_report_write_their_files(db, tmp_path):
    plot = tmp_path / "front.png"
    result = invoke("pareto", "c1", "--plot", str(plot), "--db", db)
    assert result.exit_code == 0, result.output
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    result = invoke("report", "c1", "--out", str(tmp_path / "report"), "--no-baselines",
                    "--db", db)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report" / "index.html").read_text()
    assert "data:image/png;base64," in page
    for candidate in payload("pareto", "c1", "--db", db):
        assert f"{candidate['number']}" in page


def test_plot_format_follows_the_suffix_and_report_out_names_a_file_or_a_folder(db, tmp_path):
    svg = tmp_path / "front.svg"
    assert invoke("pareto", "c1", "--plot", str(svg), "--db", db).exit_code == 0
    assert b"<svg" in svg.read_bytes()[:400]
    wrong = invoke("pareto", "c1", "--plot", str(tmp_path / "front.xyz"), "--db", db)
    assert wrong.exit_code == 2 and not (tmp_path / "front.xyz").exists()
    assert "front.xyz: cannot tell the plot format from the suffix .xyz" in wrong.output
    page = tmp_path / "reports" / "c1.html"  # a file, in a folder made for it
    result = invoke("report", "c1", "--out", str(page), "--no-baselines", "--db", db)
    assert result.exit_code == 0, result.output
    assert page.is_file() and "<html" in page.read_text()[:200].lower()


def test_export_an_optimizer_file_as_a_numpy_module(tmp_path):
    from search_spaces.optimizers.space import LION

    (tmp_path / "lion.dsl").write_text(LION)
    target = tmp_path / "lion_numpy.py"
    result = invoke("export", str(tmp_path / "lion.dsl"), "--space", "optimizers",
                    "--format", "python", "-o", str(target))
    assert result.exit_code == 0, result.output
    lion = load_standalone(target.read_text(), tmp_path, "lion_numpy", {"numpy"})
    params = {"w": np.array([0.5, -2.0]), "b": np.array(1.0)}
    grads = {"w": np.array([0.1, -0.3]), "b": np.array(-2.0)}
    state = lion.init(params)
    updates, state = lion.update(grads, state, params, 0.1)
    # first Lion step: m = 0, so update = lr * (sign((1 - 0.9) * g) + 0.01 * w)
    np.testing.assert_allclose(updates["w"], 0.1 * (np.sign(grads["w"]) + 0.01 * params["w"]))
    np.testing.assert_allclose(updates["b"], 0.1 * (np.sign(grads["b"]) + 0.01 * params["b"]))
    missing = invoke("export", str(tmp_path / "lion.dsl"), "--format", "python")
    assert missing.exit_code == 2 and "give --space" in missing.output


def test_status_counts_rejections_by_reason(db, tmp_path):
    """Rejected candidates (e.g. EvoNorm's quality and stability checks) are counted by the
    kind of reason their evaluation stored: the text before the first ':'."""
    import shutil

    copy = tmp_path / "rejections.db"
    shutil.copy(db.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    reasons = ["quality: validation accuracy 0.1 after 100 steps", "quality: diverged",
               "unstable: gradient norm 1e9"]
    with create_engine(url).begin() as conn:
        numbers = [row[0] for row in conn.execute(text(
            "SELECT candidate_number FROM evaluations ORDER BY candidate_number LIMIT 3"))]
        for number, reason in zip(numbers, reasons, strict=True):
            conn.execute(text("UPDATE candidates SET status = 'rejected' WHERE number = :n"),
                         {"n": number})
            conn.execute(text("UPDATE evaluations SET objectives = NULL, error = :e "
                              "WHERE candidate_number = :n"), {"n": number, "e": reason})
    status = payload("status", "c1", "--db", url)
    assert status["by_status"]["rejected"] == 3
    assert status["rejected_by_reason"] == {"quality": 2, "unstable": 1}
    assert payload("status", "c1", "--db", db)["rejected_by_reason"] == {}
    table = invoke("status", "c1", "--db", url).stdout
    assert "quality" in table and "unstable" in table


@pytest.mark.slow
def test_baselines_table_for_autonumerics():
    """`automl baselines --target exp2`: Taylor, Pade, minimax polynomials, fitted Horner
    forms and minimax-fitted rationals with their error and cost, cheapest first; minimax
    beats Taylor at every cost, Pade [m/n] costs 2(m + n) + 1, the rationals fitted from it beat
    it tenfold, and the Remez minimax error matches the literature (1.725e-3 at degree 2)."""
    rows = payload("baselines", "--target", "exp2")["baselines"]
    by_name = {row["name"]: row for row in rows}
    costs = [row["objectives"]["cost"] for row in rows]
    assert costs == sorted(costs)
    for degree in range(2, 9):
        minimax = by_name[f"minimax_{degree}"]["objectives"]
        taylor = by_name[f"taylor_{degree}"]["objectives"]
        assert minimax["cost"] == taylor["cost"] == 2 * degree
        assert minimax["max_relative_error"] < taylor["max_relative_error"]
    assert by_name["minimax_2"]["objectives"]["max_relative_error"] == pytest.approx(
        1.725e-3, rel=1e-3)
    pade = by_name["pade_2_2"]
    assert pade["objectives"]["cost"] == 9 and pade["program"].endswith("f = p / q")
    assert by_name["pade_3_3"]["objectives"]["max_relative_error"] < \
        by_name["pade_2_2"]["objectives"]["max_relative_error"]
    errors = [by_name[f"minimax_{d}"]["objectives"]["max_relative_error"] for d in range(2, 9)]
    assert errors == sorted(errors, reverse=True)
    for m, n in [(1, 1), (2, 2), (3, 3), (4, 4)]:  # minimax-fitted rationals beat Pade's
        rational = by_name[f"rational_minimax_{m}_{n}"]["objectives"]
        assert rational["cost"] == by_name[f"pade_{m}_{n}"]["objectives"]["cost"]
        assert rational["max_relative_error"] < \
            by_name[f"pade_{m}_{n}"]["objectives"]["max_relative_error"] / 10
    # log vanishes at x = 1: its minimax baseline is (x - 1) * q(x), so the zero stays exact
    log_rows = {r["name"]: r for r in payload("baselines", "--target", "log")["baselines"]}
    log_errors = [log_rows[f"minimax_{d}"]["objectives"]["max_relative_error"]
                  for d in range(2, 9)]
    assert log_errors == sorted(log_errors, reverse=True) and log_errors[2] < 1e-3
    assert log_rows["minimax_4"]["program"].startswith("f = (x - 1.0) * (")
    result = invoke("baselines", "--target", "nope")
    assert result.exit_code != 0 and "nope" in result.output
