"""Re-train a stored campaign's Pareto front and the baselines with training seeds the search
never used, and print each one's accuracy (mean and spread over the seeds) and cost:

    python examples/activations/heldout.py sqlite:///results/automl.db CAMPAIGN [SEEDS...]

Seeds default to 1 2 3 4 5 (the search trains with seed 0); a program the front holds several
times (cache hits) is trained once. Only the public API: `automl.open` reads the front, the
space (the campaign's settings, other seeds) evaluates it.
"""

from __future__ import annotations

import sys

import numpy as np

import automl


def main(url: str, campaign: str, seeds: list[int]) -> None:
    with automl.open(url) as results:
        stored = results.space(campaign)
        front: dict[str, tuple[str, float]] = {}  # the first candidate of each program
        for c in results.pareto(campaign):
            if all(text != c.program for text, _ in front.values()):
                front[f"{campaign}:{c.number}"] = (c.program, c.objectives["accuracy"])
    settings = stored.settings.model_dump()
    space = type(stored)(settings)
    rows = {name: (text, None) for name, text in stored.baselines().items()} | front
    programs = [space.simplify(space.parse(text, name))[0] for name, (text, _) in rows.items()]
    per_seed = []
    for seed in seeds:  # one seed at a time: the accuracy of each, for the spread
        seeded = type(stored)({**settings, "seeds": [seed]})
        per_seed.append([e.objectives["accuracy"] if e.ok else np.nan
                         for e in seeded.evaluate(programs)])
    accuracy = np.array(per_seed)
    print(f"{'program':<22} {'search':>7} {'held-out mean':>13} {'std':>6} {'cost':>5}  text")
    for k, (name, (_, searched)) in enumerate(rows.items()):
        cost = space.structural_objectives(programs[k])["cost"]
        text = space.format(programs[k]).strip().replace("\n", "; ")
        search = f"{searched:.4f}" if searched is not None else "-"
        print(f"{name:<22} {search:>7} {np.nanmean(accuracy[:, k]):>13.4f} "
              f"{np.nanstd(accuracy[:, k]):>6.4f} {cost:>5g}  {text}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]] or [1, 2, 3, 4, 5])
