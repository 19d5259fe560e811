"""Command-line latency: `automl --help` and `automl ls` against `python -c "import numpy"`.

A user feels every command's start-up; the issue's yardstick is the import of numpy, which every
scientific Python command pays. Each repeat runs the three commands in turn as fresh processes
(so a drifting machine load hits all three alike), each timed by wall clock from spawn to exit.
`ls` reads a real database: a short AutoNumerics campaign run into a fresh SQLite file first.

Prints one JSON line per figure, the median over --repeats with the spread:

* `cli_numpy_import_seconds`: ``python -c "import numpy"`` (the yardstick);
* `cli_help_seconds`, `cli_help_vs_numpy_ratio` (target <= 3);
* `cli_ls_seconds`, `cli_ls_vs_numpy_ratio` (target <= 5);
  the ratios are each repeat's own (command / numpy of the same repeat), medianed.

    python scripts/bench_cli.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"help": 3.0, "ls": 5.0}


def wall_seconds(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return time.perf_counter() - start


def automl_command() -> list[str]:
    script = Path(sys.executable).parent / "automl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "automl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    automl = automl_command()
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/bench.db"
        env = {**os.environ, "COLUMNS": "80", "AUTOML_DB": db}
        subprocess.run([*automl, "run", str(ROOT / "configs" / "autonumerics_exp2.yaml"),
                        "--max-evals", "20"], check=True, stdout=subprocess.DEVNULL,
                       cwd=folder, env=env)
        commands = {"numpy": [sys.executable, "-c", "import numpy"],
                    "help": [*automl, "--help"], "ls": [*automl, "ls"]}
        for argv in commands.values():  # warm the page cache before timing
            wall_seconds(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, argv in commands.items():
                times[name].append(wall_seconds(argv, env))
    context = {"repeats": args.repeats, "python": platform.python_version(),
               "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}

    def spread(values: list[float]) -> list[float]:
        return [round(min(values), 4), round(max(values), 4)]

    print(json.dumps({"name": "cli_numpy_import_seconds",
                      "value": round(statistics.median(times["numpy"]), 4),
                      "spread": spread(times["numpy"]), **context}))
    for name, target in TARGETS.items():
        ratios = [t / n for t, n in zip(times[name], times["numpy"], strict=True)]
        print(json.dumps({"name": f"cli_{name}_seconds",
                          "value": round(statistics.median(times[name]), 4),
                          "spread": spread(times[name]), **context}))
        print(json.dumps({"name": f"cli_{name}_vs_numpy_ratio",
                          "value": round(statistics.median(ratios), 3),
                          "spread": spread(ratios), "target": f"<= {target}",
                          "met": statistics.median(ratios) <= target, **context}))


if __name__ == "__main__":
    main()
