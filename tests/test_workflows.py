"""The workflow contract (automl/workflows.py, `SearchSpace.validate`, `.front_report`) and the
commands that reach it without naming a space (`automl validate`, `automl front`), on a space
registered here: which programs a campaign contributes, how files, --set and --option arrive,
JSON lines, tables, and one-line errors."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pydantic
import pytest
from typer.testing import CliRunner

import automl
from automl import plugins
from automl.cli import app
from automl.config import parse_config
from automl.controller import CampaignController
from automl.space import SearchSpace
from automl.store import Store
from automl.workflows import (
    RowRecorder,
    WorkflowOptions,
    WorkflowReport,
    describe_options,
    read_options,
)
from search_spaces.autonumerics.space import AutoNumericsSpace

runner = CliRunner()
SPACE = "workflow_toy"


class ToyOptions(WorkflowOptions):
    scale: float = 1.0
    tags: tuple[str, ...] = ()
    repeats: int = pydantic.Field(1, ge=1)


class ToySpace(AutoNumericsSpace):
    """AutoNumerics with a validation that reports each program's statement count (times
    `scale`), and no front report (the contract's default)."""

    name = SPACE
    ValidationOptions = ToyOptions
    front_report = SearchSpace.front_report

    def validate(self, programs: Mapping[str, str], options: Mapping[str, Any], *,
                 origin: Mapping[str, Any] | None = None, on_row=None) -> WorkflowReport:
        chosen = read_options(self.ValidationOptions, options, f"automl validate ({self.name})")
        record = RowRecorder(on_row)
        for name, text in programs.items():
            program = self.parse(text, name)
            record({"metric": "toy_statements", "program": name,
                    "value": len(program) * chosen.scale, "tags": list(chosen.tags),
                    "max_statements": self.settings.max_statements, **(origin or {})})
        total = sum(row["value"] for row in record.rows)
        record({"metric": "toy_total", "value": total, "nan": math.nan})
        return WorkflowReport("toy validation", tuple(record.rows), {"toy_total": total},
                              columns={"toy_total": ()})


@pytest.fixture(scope="module")
def toy_db(tmp_path_factory):
    plugins.SPACES.register(SPACE, ToySpace)
    url = f"sqlite:///{tmp_path_factory.mktemp('toy')}/toy.db"
    config = parse_config(f"""
seed: 1
space: {{name: {SPACE}, settings: {{target: exp2, max_statements: 6}}}}
evolution: {{strategy: nsga2, population_size: 8}}
budget: {{max_evaluations: 24}}
executor: {{kind: local, batch_size: 8}}
""")
    store = Store.open(url)
    CampaignController.create(config, store, "toy").run()
    store.close()
    yield url
    plugins.SPACES.unregister(SPACE)


@pytest.fixture
def files(tmp_path):
    plain = tmp_path / "plain.dsl"
    plain.write_text("# two statements\nt = x * x\nf = t + x\n")
    zoo = tmp_path / "zoo.dsl"
    zoo.write_text(f"# space: {SPACE}\n# settings: {{target: exp2, max_statements: 9}}\n"
                   "# objectives: {cost: 1}\nf = x * x\n")
    return plain, zoo


def invoke(*args: str):
    return runner.invoke(app, list(args))


def json_rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def one_line_error(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


# -- the core ---------------------------------------------------------------------------------
def test_read_options_names_what_is_wrong_and_what_is_allowed():
    assert read_options(ToyOptions, {"scale": "2", "tags": "a"}, "w") == ToyOptions(
        scale=2.0, tags=("a",))  # YAML strings coerced, a single value is a list of one
    assert read_options(ToyOptions, None, "w") == ToyOptions()
    assert read_options(ToyOptions, {"tags": "a, b,c"}, "w").tags == ("a", "b", "c")
    with pytest.raises(ValueError, match=r"^w: unknown option 'scal'; allowed: scale \(float, "
                                         r"default 1.0\), tags \(list of str, default \[\]\), "
                                         r"repeats \(int, default 1\)$"):
        read_options(ToyOptions, {"scal": 2}, "w")
    with pytest.raises(ValueError, match=r"^w: option repeats='x': .*integer.*\(expected int\)"):
        read_options(ToyOptions, {"repeats": "x"}, "w")
    with pytest.raises(ValueError, match=r"option repeats=0: .*greater than or equal to 1"):
        read_options(ToyOptions, {"repeats": 0}, "w")
    assert describe_options(WorkflowOptions) == "none"


def test_the_contract_defaults_refuse_naming_the_space(toy_db):
    space = AutoNumericsSpace()
    with pytest.raises(ValueError, match="the autonumerics space defines no held-out validation"):
        space.validate({"f": "f = x"}, {})
    with automl.open(toy_db) as results:
        toy = results.space("toy")
        with pytest.raises(ValueError, match=f"the {SPACE} space defines no front report"):
            toy.front_report(results, "toy", {})
        # which programs a campaign contributes, by default: its best by the first objective
        picked = toy.validation_candidates(results, "toy", {})
        best = results.top("toy", 1)[0]
    assert picked.programs == {best.ref: best.program}
    assert picked.origin == {"campaign": "toy", "candidate": best.number}


def test_a_report_prints_non_finite_values_as_json_does():
    report = WorkflowReport("t", ({"metric": "a", "value": math.inf}, {"metric": "b"},
                                  {"metric": "a", "value": 1}))
    assert report.json_lines()[0] == '{"metric": "a", "value": Infinity}'
    assert report.metrics() == ["a", "b"] and len(report.by_metric("a")) == 2


# -- automl validate ----------------------------------------------------------------------
def test_validate_a_campaign_runs_what_its_space_picks_under_its_settings(toy_db):
    with automl.open(toy_db) as results:
        best = results.top("toy", 1)[0]
        statements = len(results.space("toy").parse(best.program))
    result = invoke("validate", "toy", "--db", toy_db, "--json", "--option", "scale=2",
                    "--option", "tags=[a, b]")
    assert result.exit_code == 0, result.output
    rows = json_rows(result.stdout)
    assert rows[0] == {"metric": "toy_statements", "program": best.ref,
                       "value": 2.0 * statements, "tags": ["a", "b"], "max_statements": 6,
                       "campaign": "toy", "candidate": best.number}
    assert rows[1]["metric"] == "toy_total" and math.isnan(rows[1]["nan"])

    overridden = json_rows(invoke("validate", "toy", "--db", toy_db, "--json",
                                  "--set", "max_statements=7").stdout)
    assert overridden[0]["max_statements"] == 7  # --set over the stored settings


def test_validate_files_alone_or_beside_a_campaign(toy_db, files):
    plain, zoo = files
    alone = invoke("validate", str(plain), "--space", SPACE, "--json")
    assert alone.exit_code == 0, alone.output
    (row, total) = json_rows(alone.stdout)
    assert (row["program"], row["value"], row["file"]) == (str(plain), 2, str(plain))
    assert row["max_statements"] == ToySpace.Settings().max_statements  # the defaults
    assert total["value"] == 2

    header = json_rows(invoke("validate", str(zoo), "--json").stdout)  # the header's space
    assert header[0]["max_statements"] == 9  # and settings

    both = invoke("validate", "toy", str(plain), str(zoo), "--db", toy_db, "--json")
    assert both.exit_code == 0, both.output
    rows = json_rows(both.stdout)
    assert [r["program"] for r in rows[:3]][1:] == [str(plain), str(zoo)]
    assert rows[0]["program"].startswith("toy:")
    assert rows[0]["files"] == [str(plain), str(zoo)] and rows[0]["campaign"] == "toy"
    assert rows[3]["value"] == sum(r["value"] for r in rows[:3])


def test_validate_prints_tables_and_the_summary_without_json(files):
    plain, _ = files
    result = invoke("validate", str(plain), "--space", SPACE, "--markdown")
    assert result.exit_code == 0, result.output
    assert "toy validation" in result.stdout and "toy_statements" in result.stdout
    assert "toy_total" in result.stdout  # the summary (no table of its own)
    assert "{" not in result.stdout
    assert "no markdown table" in result.stderr


def test_validate_and_front_say_what_is_wrong_on_one_line(toy_db, files, tmp_path):
    plain, zoo = files
    one_line_error(invoke("validate", str(plain)), "give --space")
    one_line_error(invoke("validate", str(plain), "--space", "autonumerics"),
                   "the autonumerics space defines no held-out validation")
    one_line_error(invoke("validate", str(zoo), "--space", "autonumerics"),
                   f"is in the {SPACE} space, not autonumerics")
    one_line_error(invoke("validate", str(plain), "--space", SPACE, "--option", "scael=2"),
                   "unknown option 'scael'", "allowed: scale")
    one_line_error(invoke("validate", str(plain), "--space", SPACE, "--option", "scale=big"),
                   "option scale='big'")
    one_line_error(invoke("validate", str(plain), "--space", SPACE, "--option", "scale"),
                   "--option expects KEY=VALUE")
    one_line_error(invoke("validate", "missing.dsl"), "missing.dsl: no such file")
    one_line_error(invoke("validate", str(tmp_path)), "not a program file")
    one_line_error(invoke("validate", "toy", "toy", "--db", toy_db), "at most one CAMPAIGN")
    one_line_error(invoke("validate", "nope", "--db", toy_db), "nope")
    one_line_error(invoke("validate", "toy", "--db", toy_db, "--space", "autonumerics"),
                   f"is in the {SPACE} space, not autonumerics")
    one_line_error(invoke("front", "toy", "--db", toy_db),
                   f"the {SPACE} space defines no front report against baselines")
