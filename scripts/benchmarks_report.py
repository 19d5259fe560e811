"""Write BENCHMARKS.md from the JSON lines `scripts/bench_all.sh` collected.

Input: a run directory holding `machine.json` (what ran where), `commands.tsv` (section, script
name, command, seconds, exit status) and one `<name>.jsonl` per benchmark (the JSON lines the
script printed). Every figure keeps what the script measured: its value and unit, its spread
where the script repeated the measurement (min/max, p10/p90 or the list of per-repeat values),
and the rest of its context. The GPU section is read from `scripts/results/*.jsonl`
(`scripts/gpu_check.sh` runs on a GPU machine), with the device each line names.

    python scripts/benchmarks_report.py RUN_DIR [--out BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Any

# (section title, benchmark names in bench_all.sh, what the papers or issues set as targets)
SECTIONS = (
    ("Functional-hash cache (FEC)", ("fec_autonumerics", "fec_optimizers", "fec_evonorm",
                                     "collisions"),
     "Paper: 2x-10x evaluations saved, hit rate > 0.5; the Lion search saw 89% hits."),
    ("Pipeline and scale", ("pipeline", "memory", "scaling", "optimizer_eval", "evonorm"),
     "Ray overhead per candidate, workers, compile-once vs per-candidate jit; issue 25: the "
     "platform at most 0.05 of a real AutoNumerics campaign's time, memory flat to 10^6 "
     "candidates."),
    ("Store and queries", ("store", "queries"),
     "Issue 6: every query under 1 s at 10^6 evaluations."),
    ("AutoNumerics", ("fitting", "float32", "autonumerics_peers"),
     "Issue 7: beat DEAP and gplearn at equal wall-clock; float32 < 1 ULP and faster than "
     "jnp.exp2."),
    ("Multi-objective peers", ("multiobjective",),
     "Optuna NSGA-II and DEAP NSGA-II on a shared problem: hypervolume and time to target."),
)
SPREAD_KEYS = (("min", "max"), ("p10", "p90"), ("p10_us", "p90_us"), ("low", "high"))
LIST_KEYS = ("values", "runs", "per_seed", "seconds_each", "runs_seconds")
HIDDEN = {"metric", "value", "unit", "machine", "cpus", "jax", "python", "device_kind",
          "platform"}


def read_lines(path: Path) -> list[dict[str, Any]]:
    figures = []
    if not path.exists():
        return figures
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                figures.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return [f for f in figures if "metric" in f]


def number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


def spread(figure: dict[str, Any]) -> str:
    for low, high in SPREAD_KEYS:
        if low in figure and high in figure:
            return f"{number(figure[low])} – {number(figure[high])}"
    for key in LIST_KEYS:
        values = figure.get(key)
        if isinstance(values, list) and values and all(isinstance(v, int | float)
                                                      for v in values):
            return f"{number(min(values))} – {number(max(values))} (n={len(values)})"
    return ""


def context(figure: dict[str, Any]) -> str:
    shown = []
    used = {key for pair in SPREAD_KEYS for key in pair} | set(LIST_KEYS) | HIDDEN
    for key, value in figure.items():
        if key in used or isinstance(value, dict):
            continue
        if isinstance(value, list):
            if len(value) > 6:
                continue
            value = ", ".join(number(v) for v in value)
        text = f"{key}={number(value)}"
        shown.append(text if len(text) <= 60 else text[:57] + "...")
    return "; ".join(shown)


def table(figures: list[dict[str, Any]]) -> list[str]:
    rows = ["| figure | value | spread | context |", "|---|---|---|---|"]
    for figure in figures:
        value = f"{number(figure.get('value'))} {figure.get('unit', '')}".strip()
        cells = [f"`{figure['metric']}`", value, spread(figure), context(figure)]
        rows.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--gpu-results", type=Path,
                        default=Path(__file__).resolve().parent / "results")
    arguments = parser.parse_args()
    run = arguments.run_dir
    machine = json.loads((run / "machine.json").read_text())
    with (run / "commands.tsv").open() as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        commands = {row["name"]: row for row in rows}

    lines = ["# Benchmarks", "",
             "Generated by `scripts/bench_all.sh` (then `scripts/benchmarks_report.py`); "
             "regenerate with the command below. Every figure is what the benchmark script "
             "printed: medians of its repeats, the spread where it repeated, and ratios "
             "measured side by side in the same run. Targets are the papers' and the issues'; "
             "shortfalls are reported as measured.", "",
             "## Machine", "",
             f"- command: `{machine.get('command', '')}`",
             *(f"- {key}: {value}" for key, value in machine.items() if key != "command"),
             f"- wall time of all benchmarks: "
             f"{sum(float(c['seconds']) for c in commands.values()) / 60:.1f} min", ""]
    for title, names, target in SECTIONS:
        lines += [f"## {title}", "", f"Target: {target}", ""]
        for name in names:
            command = commands.get(name)
            if command is None:
                continue
            figures = read_lines(run / f"{name}.jsonl")
            status = "" if command["status"] == "0" else \
                f" **(exit status {command['status']}: see `{name}.log`)**"
            lines += [f"### {name}", "",
                      f"`{command['command']}` ({float(command['seconds']):.0f} s){status}", ""]
            lines += table(figures) if figures else ["No figures were printed."]
            lines.append("")
    gpu_files = sorted(arguments.gpu_results.glob("*.jsonl"))
    if gpu_files:
        lines += ["## GPU", "",
                  "From `scripts/gpu_check.sh` on a GPU machine, when one was lent (not part of "
                  "this run; the device is named in each line).", ""]
        for path in gpu_files:
            lines += [f"### {path.name}", "", *table(read_lines(path)), ""]
    arguments.out.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
