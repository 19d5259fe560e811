"""The fourth search space, written outside the package as a user would (issue 26):
examples/activations, installed with `pip install -e examples/activations` (scripts/setup_venv.sh
installs it with the `dev` extra, so CI runs these and the space contract tests over it)."""

from __future__ import annotations

import ast
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from automl.ir import run_numpy
from automl.plugins import get_space

try:
    import automl_activations
except ModuleNotFoundError:
    if os.environ.get("CI"):
        raise
    pytest.skip("the example is not installed: pip install -e examples/activations",
                allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "activations"
SOURCES = sorted((EXAMPLE / "automl_activations").glob("*.py"))
# small enough to compile and train in seconds: the MLP alone, 150 steps
QUICK = {"networks": ["mlp"], "steps": 150, "max_statements": 4}


def test_the_space_comes_from_the_example_package_through_its_entry_point():
    space = get_space("activations")
    assert type(space).__module__ == "automl_activations.space"
    assert Path(automl_activations.__file__).resolve().parent == EXAMPLE / "automl_activations"
    assert 'activations = "automl_activations:ActivationsSpace"' in \
        (EXAMPLE / "pyproject.toml").read_text()


def test_it_uses_only_the_public_api_and_stays_small():
    """Core modules only (no search_spaces, no workers), and under 300 lines of code (blank
    and comment lines left out, docstrings counted)."""
    public = {"automl.batching", "automl.evolution.mutations", "automl.ir", "automl.objective",
              "automl.ops", "automl.space"}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                assert top not in ("search_spaces", "workers"), (path.name, node.module)
                assert top != "automl" or node.module in public, (path.name, node.module)
    lines = [line for path in SOURCES for line in path.read_text().splitlines()
             if line.strip() and not re.match(r"\s*#", line)]
    assert len(lines) < 300


def test_swish_written_two_ways_is_one_function():
    space = get_space("activations")
    texts = ["y = x * sigmoid(x)\n", "y = x / (1.0 + exp(-x))\n",
             "y = x * (0.5 + 0.5 * tanh(0.5 * x))\n"]
    programs = [space.simplify(space.parse(text))[0] for text in texts]
    assert len({space.fingerprint(p) for p in programs}) == 1
    # cost is structural: each spelling keeps its own
    assert [space.structural_objectives(p)["cost"] for p in programs] == [3.0, 5.0, 6.0]
    others = {space.fingerprint(space.parse(text)) for text in space.baselines().values()}
    assert len(others) == 4 and space.fingerprint(programs[0]) in others


@pytest.mark.parametrize("flavor", ["python", "jax"])
def test_export_computes_what_the_program_computes(flavor):
    space = get_space("activations")
    x = space.probe()[0]["x"]
    for name, text in {**space.baselines(), "odd": "y = x - -1.0 * gauss(abs(x))\n"}.items():
        program = space.parse(text)
        namespace: dict = {}
        exec(space.export(program, flavor), namespace)  # our own generated module
        got = np.asarray(namespace["activation"](x), dtype=np.float64)
        want = run_numpy(program, {"x": x}, space.signature.registry)["y"]
        assert np.allclose(got, want, rtol=1e-5, atol=1e-6), name
    with pytest.raises(ValueError, match="unknown export format"):
        space.export(program, "c")


@pytest.mark.slow
def test_bad_programs_fail_with_their_reason_and_good_ones_train():
    """Not finite on the probe or constant: rejected before training; finite there but
    overflowing in float32 training: failed as diverged; ReLU and Swish learn digits."""
    space = get_space("activations", QUICK)
    texts = ["y = max(x, 0.0)\n", "y = x * sigmoid(x)\n", "y = x / x\n",
             "y = sin(x) - sin(x) + 2.0 * exp(0.0 * x)\n", "y = exp(x * 50.0)\n"]
    relu, swish, nan, constant, overflow = space.evaluate([space.parse(t) for t in texts])
    assert nan.rejected and nan.error == "activation is not finite at x = 0"
    assert constant.rejected and constant.error == "constant activation"
    assert not overflow.ok and not overflow.rejected
    assert overflow.error == "training diverged on mlp (validation loss not finite)"
    for evaluation in (relu, swish):
        assert evaluation.ok and evaluation.objectives["accuracy"] > 0.85, evaluation
        assert evaluation.metrics["accuracy_mlp"] == evaluation.objectives["accuracy"]
    assert relu.objectives["cost"] == 1.0 and swish.objectives["cost"] == 3.0


@pytest.mark.slow
def test_evaluation_is_seeded():
    space = get_space("activations", QUICK)
    program = space.parse("y = tanh(x)\n")
    first, second = space.evaluate([program]), get_space("activations", QUICK).evaluate([program])
    assert first[0].objectives == second[0].objectives


@pytest.mark.slow
def test_the_baselines_train_with_the_default_settings():
    """The campaign's settings (MLP and CNN, 300 steps): ReLU and Swish, the paper's pair,
    learn digits (two of the four baselines: the whole suite's time is budgeted; the space
    contract trains all four at small settings)."""
    space = get_space("activations", {"max_statements": 4})
    names = [name for name in space.baselines() if name in ("relu", "swish")]
    assert len(names) == 2, list(space.baselines())
    evaluations = space.evaluate([space.parse(space.baselines()[name]) for name in names])
    accuracy = {name: e.objectives["accuracy"] for name, e in zip(names, evaluations,
                                                                    strict=True)}
    assert all(e.ok for e in evaluations), [e.error for e in evaluations]
    assert min(accuracy.values()) > 0.9, accuracy
    assert all(math.isfinite(e.metrics["loss_cnn"]) for e in evaluations)


def test_the_readme_walkthrough_quotes_the_example_as_it_is():
    """README "Write your own search space": each block introduced by "From `FILE`:" (or "From
    the same file:") is an excerpt of that file, "..." standing for lines left out; the layout
    names files that exist."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Write your own search space\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^```(\w*)\n(.*?)^```\n", section, flags=re.MULTILINE | re.DOTALL)
    source, quoted = None, 0
    for before, language, body in zip(parts[0::3], parts[1::3], parts[2::3], strict=False):
        named = re.search(r"From\s+`(examples/activations/[^`]+)`:\s*$", before)
        if named:
            source = ROOT / named[1]
        elif not re.search(r"From the same\s+file:\s*$", before):
            if body.startswith("examples/activations/\n"):  # the layout
                for name in re.findall(r"^\s+([\w.]+\.(?:py|toml|yaml))\s", body, re.MULTILINE):
                    assert list(EXAMPLE.rglob(name)), name
            continue
        assert language == "" and source is not None
        for excerpt in body.split("...\n"):
            assert excerpt in source.read_text(), (source.name, excerpt)
            quoted += 1
    assert quoted >= 8
