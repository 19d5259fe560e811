"""Bad AutoNumerics targets are refused before anything is stored, in one line naming the
setting, exit 2 (issue 28): an interval that is empty or reversed, a function that is not
finite on the interval (checked at every training point, where candidates are scored), and
float32 mode, which only takes built-in targets, none of which has a pole in its interval."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from automl.cli import app
from search_spaces.autonumerics import float32, targets


def run(tmp_path, monkeypatch, target: str, extra: str = "") -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOML_DB", raising=False)
    (tmp_path / "bad.yaml").write_text(
        f"space:\n  name: autonumerics\n  settings:\n    target: {target}\n{extra}"
        "budget:\n  max_evaluations: 4\n")
    result = CliRunner().invoke(app, ["run", "bad.yaml", "--db", "sqlite:///bad.db"])
    assert "Traceback" not in result.output
    assert not (tmp_path / "bad.db").exists()  # nothing stored
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("interval", ["[1, 0]", "[0.5, 0.5]", "[0, .nan]"])
def test_an_empty_or_reversed_interval(tmp_path, monkeypatch, interval):
    code, output = run(tmp_path, monkeypatch,
                       f"{{function: 'user_target_functions:gelu', interval: {interval}}}")
    assert code == 2
    assert output.startswith("error: bad.yaml:4: space.settings.target: interval: need finite "
                             "lower < upper"), output


def test_a_function_not_finite_on_the_interval(tmp_path, monkeypatch):
    """nan_inside is finite at -1, 0 and 1 and NaN on (0.4, 0.6): the training grid finds it."""
    code, output = run(tmp_path, monkeypatch,
                       "{function: 'user_target_functions:nan_inside', interval: [-1, 1]}")
    assert code == 2
    assert output.startswith("error: bad.yaml:4: space.settings.target: target 'nan_inside' "
                             "returned nan at x = 0.4"), output


def test_float32_takes_built_in_targets_whose_intervals_have_no_pole(tmp_path, monkeypatch):
    code, output = run(tmp_path, monkeypatch,
                       "{function: 'user_target_functions:gelu', interval: [-4, 4]}",
                       "    precision: float32\n")
    assert code == 2 and "precision float32 compares programs with a library function" in output
    for name in float32.REFERENCE_FUNCTIONS:  # finite at every float32 check point
        target = targets.get_target(name)
        x = float32.check_points(target, 4096, random=0)
        assert np.all(np.isfinite(targets.ground_truth(target, x.astype(np.float64)))), name


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_an_interval_across_a_pole(tmp_path, monkeypatch, precision):
    """log on [0, 1], its pole at 0 an endpoint: refused in one line naming the setting. float32
    mode takes only built-in targets on their intervals, none of which holds a pole (the test
    above), so a user's interval is refused there before the function is tried."""
    extra = f"    precision: {precision}\n"
    code, output = run(tmp_path, monkeypatch,
                       "{function: 'mpmath:log', interval: [0, 1], name: log}", extra)
    assert code == 2 and len(output.split("error:")) == 2, output  # one error
    if precision == "float64":
        assert output.startswith("error: bad.yaml:4: space.settings.target: target 'log' "
                                 "returned -inf at x = 0.0"), output
    else:
        assert output.startswith("error: bad.yaml:3: space.settings: precision float32 "
                                 "compares programs with a library function, and target "
                                 "'mpmath:log' has none"), output


@pytest.mark.slow
def test_the_float32_benchmark_refuses_an_interval_across_a_pole():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "scripts/bench_float32.py", "--target", "log",
                             "--interval", "0", "1", "--points", "10"], cwd=root,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: --interval [0, 1]: log is not finite at x = 0 (a pole or outside "
                     "its domain): give an interval where it is finite"], result.stderr


@pytest.mark.parametrize("extra,message", [
    ("    float32_subnormal_inputs: false\n",
     "float32_subnormal_inputs applies only with precision: float32"),
    ("    fit_method: cma\n    fit_least_squares_evaluations: 20\n",
     "fit_least_squares_evaluations applies only with fit_method: lsq_minimax"),
])
def test_a_setting_that_changes_nothing_is_refused_not_keyed(tmp_path, monkeypatch, extra,
                                                             message):
    """Keyed, such a setting would only split the cache (everything re-evaluated) and tell the
    reader something that is not so."""
    code, output = run(tmp_path, monkeypatch, "exp2", extra)
    assert code == 2 and output.startswith("error: bad.yaml") and message in output, output
