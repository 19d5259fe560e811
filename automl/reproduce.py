"""Re-run an evaluation and compare with what was recorded: a stored candidate (its program,
its campaign's space settings) or a zoo file (its header's space, settings and objectives).

A mismatch beyond ``rtol`` on any objective fails the check, except on a wall-clock one
(`Objective.measured`: shown beside the record, as it differs from run to run); differences in
the platform's or libraries' versions, or the device, since the campaign started are reported
as warnings because they are the usual reason for one, and so is a user plug-in whose declared
``__automl_version__`` (or import string) is not the campaign's record of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from automl import environment
from automl.plugins import get_space
from automl.results import Results, parse_ref
from automl.space import SearchSpace
from automl.store import CampaignRecord
from automl.zoo import ZooEntry


@dataclass(frozen=True)
class ObjectiveCheck:
    name: str
    recorded: float
    reproduced: float | None
    ok: bool
    # a wall-clock objective (`Objective.measured`): shown, never a failure
    measured: bool = False


@dataclass(frozen=True)
class Reproduction:
    what: str  # CAMPAIGN:NUMBER or the file
    program: str
    checks: list[ObjectiveCheck]
    error: str | None = None  # the re-evaluation failed
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.error is None and any(not c.measured for c in self.checks)
                and all(c.ok for c in self.checks if not c.measured))


def compare(recorded: dict[str, float], reproduced: dict[str, float] | None, rtol: float,
            measured: frozenset[str] = frozenset()) -> list[ObjectiveCheck]:
    checks = []
    for name, value in recorded.items():
        again = None if reproduced is None else reproduced.get(name)
        ok = again is not None and math.isclose(value, again, rel_tol=rtol, abs_tol=0.0)
        checks.append(ObjectiveCheck(name, value, again, ok, name in measured))
    return checks


def _evaluate(space: SearchSpace, text: str, source: str, metrics: dict
              ) -> tuple[str, dict[str, float] | None, str | None, frozenset[str]]:
    """The program as the space formats it, its objectives (or error) evaluated again, and
    the names of the space's wall-clock objectives."""
    program = space.parse(text, source)
    # the recorded metrics may hold what the evaluation started from besides the text (an
    # inherited start of the constants' fit): without it, the result could differ
    (evaluation,) = space.evaluate([space.as_evaluated(program, metrics)])
    measured = frozenset(o.name for o in space.objectives if o.measured)
    return space.format(program), evaluation.objectives, evaluation.error, measured


def plugin_warnings(record: CampaignRecord, space: SearchSpace) -> list[str]:
    """A line per user plug-in (`SearchSpace.plugins`) whose import string or declared
    ``__automl_version__`` is not the one the campaign recorded; for a campaign that recorded
    none (stored before plug-in versions were), one line when the evaluation settings hash,
    which holds them, differs."""
    plugins = space.plugins()
    if "plugins" in (record.environment or {}):
        return environment.plugin_differences(record.environment, plugins)
    if plugins and space.settings_hash() != record.settings_hash:
        return [f"plug-in(s) {', '.join(sorted(plugins))}: the campaign recorded no versions "
                f"and its evaluation settings hash differs from theirs now (another "
                f"__automl_version__?)"]
    return []


def reproduce_candidate(results: Results, ref: str, rtol: float) -> Reproduction:
    campaign, number = parse_ref(ref)
    record = results.record(campaign)
    candidate = results.candidate((campaign, number), with_duplicates=False)
    if candidate.objectives is None:
        raise ValueError(f"candidate {ref} has no stored objectives to reproduce "
                         f"(status {candidate.status}: {candidate.error})")
    settings = record.config.get("space", {}).get("settings") or {}
    space = get_space(record.space, settings)
    program, objectives, error, measured = _evaluate(space, candidate.program, ref,
                                                     candidate.metrics)
    return Reproduction(f"{record.name}:{number}", program,
                        compare(candidate.objectives, objectives, rtol, measured), error,
                        [*plugin_warnings(record, space),
                         *environment.differences(record.environment, environment.capture())])


def reproduce_entry(entry: ZooEntry, rtol: float) -> Reproduction:
    program, objectives, error, measured = _evaluate(get_space(entry.space, entry.settings),
                                                     entry.program, str(entry.path),
                                                     entry.metrics)
    return Reproduction(str(entry.path), program,
                        compare(entry.objectives, objectives, rtol, measured), error)
