"""Making candidates: the first ones from the space's baselines and initial population, every
later one a mutated child of a parent the selection strategy picks, simplified and hashed.

Randomness is counter-based: candidate n draws everything from ``default_rng([seed, n])``, so a
campaign needs no pickled RNG state, and a resumed campaign makes the candidates an
uninterrupted one would have made.

A candidate's program may carry ``parameter_values`` (`automl.ir.Program`): where the fit of its
constants starts, inherited from its parent (`SearchSpace.passed_on`). They are not in its text,
so what needs them beyond this process travels explicitly: `Candidate.start` into the campaign
state while the candidate is in flight (`automl.campaign_state`), and the evaluation's metrics
record it once it has run (`SearchSpace.as_evaluated` reads it back for `reproduce`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from automl.config import CampaignConfig
from automl.evolution.mutations import MutationFailed, mutate_until_changed
from automl.evolution.selection import SelectionStrategy
from automl.ir import Program
from automl.space import SearchSpace
from automl.store import CandidateRow


@dataclass
class Candidate:
    number: int
    program: Program
    text: str
    functional_hash: str
    parents: tuple[int, ...]
    mutation: str | None
    simplified_removed: int
    created_at: float

    @property
    def start(self) -> Mapping[str, float] | None:
        """Where the fit of its constants starts (inherited from its parent), if anywhere."""
        return self.program.parameter_values

    def set_start(self, start: Mapping[str, float] | None) -> None:
        """Make its fit start at `start` (None: from the space's own starts)."""
        if start is None and self.program.parameter_values is None:
            return
        self.program = self.program.replace(parameter_values=None if start is None
                                            else dict(start))

    def row(self, status: str, duplicate_of: int | None = None) -> CandidateRow:
        return CandidateRow(self.number, self.text, self.parents, self.mutation,
                            self.functional_hash, status, duplicate_of, self.simplified_removed,
                            self.created_at)


# programs whose hash the factory remembers (oldest out): ~100 bytes of text and 32 of hash each
REMEMBERED_HASHES = 50_000


class CandidateFactory:
    """Makes candidate n for a campaign of `space` under `config`."""

    def __init__(self, config: CampaignConfig, space: SearchSpace) -> None:
        self.config, self.space = config, space
        self.initial_programs = self._initial_programs()
        self._hashes: dict[str, str] = {}  # program text -> functional hash
        self._texts: tuple[Program, str] | None = None  # the last program formatted

    def text(self, program: Program) -> str:
        """The program's DSL text (the last one is remembered: its hash is asked first)."""
        if self._texts is None or self._texts[0] is not program:
            self._texts = (program, self.space.format(program))
        return self._texts[1]

    def fingerprint(self, program: Program) -> str:
        """`space.fingerprint`, remembered by the program's text (which determines it: the
        text form round-trips exactly). A campaign hashes the same child again and again:
        in a demo campaign 3 of 4 fingerprints were of a program hashed before."""
        text = self.text(program)
        digest = self._hashes.get(text)
        if digest is None:
            digest = self.space.fingerprint(program)
            if len(self._hashes) >= REMEMBERED_HASHES:
                del self._hashes[next(iter(self._hashes))]
            self._hashes[text] = digest
        return digest

    def _initial_programs(self) -> list[tuple[str, Program | None]]:
        """(mutation label, program) for the first candidates; None: drawn from the space's
        `initial_population` when the candidate is made (from its own random stream)."""
        evolution = self.config.evolution
        programs: list[tuple[str, Program | None]] = []
        if evolution.include_baselines:
            for name, text in self.space.baselines().items():
                programs.append((f"baseline:{name}", self.space.parse(text, f"baseline {name}")))
        count = evolution.initial_population or evolution.population_size
        programs.extend(("initial", None) for _ in range(count))
        return programs

    def make(self, number: int, population: SelectionStrategy, awaiting_results: bool
             ) -> Candidate | None:
        """Candidate `number`; None when it needs a parent, none has been evaluated yet and
        results are still awaited (`awaiting_results`)."""
        rng = np.random.default_rng([self.config.seed, number])
        program: Program | None = None
        if number < len(self.initial_programs):
            mutation, program = self.initial_programs[number]
        elif len(population) == 0:
            if awaiting_results:
                return None  # wait for the initial population's results
            mutation = "random_restart"
        else:
            parent = population.select_parent(rng)
            try:
                child, mutation, child_hash, removed = self._mutate(parent.payload, rng)
            except MutationFailed:
                mutation = "random_restart"
            else:
                return Candidate(number, child, self.text(child), child_hash,
                                 (parent.number,), mutation, removed, time.time())
        if program is None:  # the space decides what initial programs are (random, a seed)
            program = (self.space.initial_population(rng, 1)[0] if mutation == "initial"
                       else self.space.random(rng))
        program, removed = self.space.simplify(program)
        return Candidate(number, program, self.text(program), self.fingerprint(program), (),
                         mutation, removed, time.time())

    def _mutate(self, parent: Candidate, rng: np.random.Generator
                ) -> tuple[Program, str, str, int]:
        """A simplified child whose function differs from the parent's, with its hash and the
        number of statements simplification removed."""
        removed_by_try: list[int] = []

        def mutate_once(program: Program) -> tuple[Program, str]:
            child, kind = self.space.mutate(program, rng, canonical=False)
            simplified, removed = self.space.simplify(child)
            removed_by_try.append(removed)
            return simplified, kind

        child, kind, child_hash, _ = mutate_until_changed(
            parent.program, parent.functional_hash, mutate_once, self.fingerprint,
            self.config.evolution.max_mutation_tries)
        return child, kind, child_hash, removed_by_try[-1]

    def from_row(self, row: CandidateRow) -> Candidate:
        """A stored candidate, as the controller holds it (its program parsed again)."""
        program = self.space.parse(row.program, f"candidate {row.number}")
        return Candidate(row.number, program, row.program, row.functional_hash,
                         tuple(row.parents), row.mutation, row.simplified_removed,
                         row.created_at)
