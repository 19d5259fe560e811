"""A target of your own: SiLU (swish), x * sigmoid(x), in mpmath."""
from mpmath import mp

__automl_version__ = "1"  # bump it when silu changes: cached results are not reused


def silu(x):
    return x / (1 + mp.exp(-x))


if __name__ == "__main__":
    from my_targets import silu  # by its module's name: this script's own is "__main__"

    import automl

    run = automl.run("docs/examples/silu.yaml", db="sqlite:///mine.db", max_evals=20,
                     set={"space.settings.target.function": silu})
    best = run.summary.front[0]
    print(run.name, run.summary.evaluations, "evaluations; best error", best.objectives)
