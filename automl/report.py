"""One self-contained HTML page per campaign: `automl report CAMPAIGN --out DIR|FILE.html`.

The page (``FILE.html``, or ``DIR/index.html``) embeds its plots as base64 PNGs and carries
its own CSS, so it can be mailed or archived and opened offline. Sections: header (counts,
environment, config), hypervolume over evaluations, cache-hit rate over candidates, the Pareto
front, the front and the top programs, and the space's hand-written baselines evaluated beside
them.

Plots use matplotlib's Agg canvas on `Figure` objects directly (never pyplot), so writing a
report neither needs a display nor touches the global backend of a notebook that calls it.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from automl.evolution.front import Front, FrontMember
from automl.results import CandidateInfo, Results
from automl.space import Objective
from automl.store import EvaluationRow

CHECKPOINTS = 200  # points on the progress curves, whatever the campaign's size
MAX_SCATTER = 50_000  # evaluated candidates drawn behind the front (subsampled beyond)
MAX_FRONT_ROWS = 20
TOP_K = 10

__all__ = ["best_over_evaluations", "hypervolume_over_evaluations", "image_format_of",
           "image_formats", "parallel_coordinates", "plot_front", "report_page", "view_range",
           "write_report"]


def report_page(out: str | Path) -> Path:
    """Where a report given `out` goes: `out` itself when it names an HTML file
    (``report.html``), else ``out/index.html`` (a folder, made if missing)."""
    out = Path(out)
    return out if out.suffix.lower() in (".html", ".htm") else out / "index.html"


def write_report(results: Results, campaign: str | int, out: str | Path,
                 baselines: bool = True) -> Path:
    """Write the report of `campaign` to `report_page(out)` and return that path."""
    info = results.campaign(campaign)
    objectives = results.objectives(campaign)
    evaluations = results.evaluations(campaign)
    statuses = [row["status"] for row in results.records(campaign)]
    front = results.pareto(campaign)
    sections = [
        _header(info, statuses),
        _progress_section(evaluations, objectives),
        _cache_section(statuses),
        _figure_section("Pareto front", plot_front(results, campaign, evaluations, front),
                        _front_caption(objectives)),
        _candidates_section(f"Pareto front ({min(len(front), MAX_FRONT_ROWS)} of "
                            f"{len(front)} members)", front[:MAX_FRONT_ROWS], objectives),
        _candidates_section(f"Top {TOP_K} by {objectives[0].name}",
                            results.top(campaign, TOP_K), objectives),
    ]
    if baselines:
        sections.append(_baselines_section(results, campaign, objectives))
    page = report_page(out)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(_page(f"automl report: {info.name}", sections), encoding="utf-8")
    return page


# -- progress curves (pure: unit-tested on their own) --------------------------------------
def _checkpoints(n: int, count: int = CHECKPOINTS) -> np.ndarray:
    """Up to `count` evenly spaced evaluation counts in 1..n, always ending at n."""
    if n == 0:
        return np.zeros(0, dtype=int)
    return np.unique(np.linspace(1, n, min(count, n)).round().astype(int))


def _minimization_points(evaluations: Sequence[EvaluationRow],
                         objectives: Sequence[Objective]) -> tuple[np.ndarray, np.ndarray]:
    """(positions, points): the successful evaluations with finite objectives (their index in
    `evaluations`) on the minimization scales, as the store's Pareto front takes them."""
    positions, points = [], []
    for position, row in enumerate(evaluations):
        values = row.objectives
        if values and all(math.isfinite(values.get(o.name, math.nan)) for o in objectives):
            positions.append(position)
            points.append([o.to_minimization(values[o.name]) for o in objectives])
    return (np.asarray(positions, dtype=int),
            np.asarray(points, dtype=float).reshape(-1, len(objectives)))


def hypervolume_over_evaluations(evaluations: Sequence[EvaluationRow],
                                 objectives: Sequence[Objective],
                                 checkpoints: int = CHECKPOINTS) -> tuple[np.ndarray, np.ndarray]:
    """(evaluation counts, hypervolume of the non-dominated set after that many evaluations).

    Keeps only the running front (`Front`) and merges each chunk of evaluations into it, so
    the cost is one dominance filter per checkpoint on (front + chunk) points rather than on
    everything so far: seconds at 100k evaluations. Every objective needs a reference."""
    if any(o.reference is None for o in objectives):
        raise ValueError("hypervolume needs a reference for every objective")
    counts = _checkpoints(len(evaluations), checkpoints)
    front = Front(objectives)
    volumes, start = [], 0
    for count in counts:
        front.add(FrontMember(row.candidate_number, row.objectives)
                  for row in evaluations[start:count] if row.objectives)
        start = count
        volumes.append(front.hypervolume())
    return counts, np.asarray(volumes, dtype=float)


def best_over_evaluations(evaluations: Sequence[EvaluationRow], objective: Objective,
                          checkpoints: int = CHECKPOINTS) -> tuple[np.ndarray, np.ndarray]:
    """(evaluation counts, best value of `objective` so far); NaN before the first success."""
    counts = _checkpoints(len(evaluations), checkpoints)
    positions, points = _minimization_points(evaluations, [objective])
    if not len(points):
        return counts, np.full(len(counts), np.nan)
    running = np.minimum.accumulate(points[:, 0])  # minimization scale: lower is better
    ends = np.searchsorted(positions, counts)
    best = np.where(ends > 0, running[np.maximum(ends - 1, 0)], np.nan)
    return counts, _from_minimization(best, objective)


def _from_minimization(values: np.ndarray, objective: Objective) -> np.ndarray:
    values = values if objective.direction == "minimize" else -values
    return 10.0 ** values if objective.log_scale else values


# -- plots ---------------------------------------------------------------------------------
def _png(figure: Figure, image_format: str = "png") -> bytes:
    """The figure's image bytes (PNG unless `image_format` names another of
    `image_formats()`)."""
    FigureCanvasAgg(figure)  # attaches the Agg canvas: no display, no global backend
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def image_formats() -> list[str]:
    """The file formats a plot can be written in (matplotlib's Agg canvas: png, svg, pdf,
    jpg with Pillow, ...), by file suffix."""
    return sorted(FigureCanvasAgg(Figure()).get_supported_filetypes())


def image_format_of(path: str | Path) -> str:
    """The format a plot written to `path` takes from its suffix; ValueError naming the path
    and the formats there are for any other suffix (bytes must match the name)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in image_formats():
        raise ValueError(f"{path}: cannot tell the plot format from the suffix "
                         f"{'.' + suffix if suffix else '(none)'}; use one of "
                         f"{', '.join('.' + f for f in image_formats())}")
    return suffix


def _axes(width: float = 7.0, height: float = 4.0) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height))
    return figure, figure.add_subplot()


def _label(objective: Objective) -> str:
    return f"{objective.name} ({'lower' if objective.direction == 'minimize' else 'higher'}" \
           " is better)"


def _line_plot(x: np.ndarray, y: np.ndarray, xlabel: str, ylabel: str, log: bool = False
               ) -> bytes:
    figure, axes = _axes()
    axes.plot(x, y, color="tab:blue")
    axes.set(xlabel=xlabel, ylabel=ylabel)
    if log:
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    return _png(figure)


def plot_front(results: Results, campaign: str | int,
               evaluations: Sequence[EvaluationRow] | None = None,
               front_members: Sequence[CandidateInfo] | None = None,
               image_format: str = "png") -> bytes:
    """Image of the front: a scatter (2 objectives), parallel coordinates (more), or a
    histogram of the evaluated values (1). `evaluations` and `front_members` save reloading
    them; `image_format` is one of `image_formats()`."""
    objectives = results.objectives(campaign)
    if evaluations is None:
        evaluations = results.evaluations(campaign)
    if front_members is None:
        front_members = results.pareto(campaign)
    _, points = _minimization_points(evaluations, objectives)
    everything = np.column_stack([_from_minimization(points[:, j], o)
                                  for j, o in enumerate(objectives)]).reshape(points.shape)
    front = np.asarray([[c.objectives[o.name] for o in objectives]
                        for c in front_members if c.objectives],
                       dtype=float).reshape(-1, len(objectives))
    if len(objectives) == 1:
        return _histogram(everything[:, 0], objectives[0], image_format)
    if len(objectives) == 2:
        return _scatter_front(everything, front, objectives, image_format)
    return parallel_coordinates(front, objectives, image_format)


def _histogram(values: np.ndarray, objective: Objective, image_format: str = "png") -> bytes:
    figure, axes = _axes()
    if objective.log_scale:  # log-spaced bins, or the whole histogram is one bar
        values = np.log10(np.maximum(values, 1e-300))
        axes.set_xlabel(f"log10 {_label(objective)}")
    else:
        axes.set_xlabel(_label(objective))
    axes.hist(values, bins=50, color="tab:blue")
    axes.set_ylabel("evaluations")
    return _png(figure, image_format)


def view_range(front: np.ndarray, everything: np.ndarray, log_scale: bool
               ) -> tuple[float, float]:
    """The axis range of a front plot: the whole front, and the evaluated points up to their
    90th percentile but no further than a span beyond the front's worst value (3 decades on a
    log axis, the front's own width on a linear one), so that a few huge errors (1e51) do not
    squash the front into a corner. Points beyond are drawn clipped at the edge."""
    values = everything[np.isfinite(everything)]
    if log_scale:
        values = values[values > 0]
    inside = np.concatenate([front[np.isfinite(front)], values])
    if len(inside) == 0:
        return (0.1, 10.0) if log_scale else (0.0, 1.0)
    front_values = front[np.isfinite(front)] if len(front) else inside
    if log_scale:
        front_values = front_values[front_values > 0] if np.any(front_values > 0) else values
        logs = np.log10(front_values if len(front_values) else inside)
        low = min(logs.min(), np.log10(values.min()) if len(values) else logs.min())
        cap = logs.max() + 3.0
        high = min(max(logs.max(), np.quantile(np.log10(values), 0.9) if len(values)
                       else logs.max()), cap)
        low, high = (low - 0.5, high + 0.5) if high > low else (low - 1.0, high + 1.0)
        return 10.0 ** low, 10.0 ** high
    low = min(front_values.min(), values.min() if len(values) else front_values.min())
    width = max(front_values.max() - front_values.min(), 1e-12 * max(1.0, abs(low)))
    high = min(max(front_values.max(), np.quantile(values, 0.9) if len(values)
                   else front_values.max()), front_values.max() + width)
    margin = 0.05 * (high - low) if high > low else max(abs(low), 1.0) * 0.05
    return low - margin, high + margin


def _scatter_front(everything: np.ndarray, front: np.ndarray,
                   objectives: Sequence[Objective], image_format: str = "png") -> bytes:
    figure, axes = _axes(7.0, 5.0)
    if len(everything) > MAX_SCATTER:  # fixed seed: the same report draws the same dots
        keep = np.random.default_rng(0).choice(len(everything), MAX_SCATTER, replace=False)
        everything = everything[keep]
    everything = everything[np.all(np.isfinite(everything), axis=1)]
    (x_low, x_high), (y_low, y_high) = (view_range(front[:, j], everything[:, j],
                                                    objectives[j].log_scale) for j in (0, 1))
    clipped = ((everything[:, 0] > x_high) | (everything[:, 0] < x_low)
               | (everything[:, 1] > y_high) | (everything[:, 1] < y_low))
    inside = everything[~clipped]
    axes.scatter(inside[:, 0], inside[:, 1], s=6, color="0.7", label="evaluated")
    if clipped.any():  # at the edge of the view, marked apart, counted in the legend
        edge = np.column_stack([np.clip(everything[clipped, 0], x_low, x_high),
                                np.clip(everything[clipped, 1], y_low, y_high)])
        axes.scatter(edge[:, 0], edge[:, 1], s=10, marker="^", color="0.5",
                     label=f"{int(clipped.sum())} beyond the axes (drawn at the edge)")
    # results.pareto sorts by the first objective's minimization scale, so a post-step line
    # traces the boundary of the dominated region whatever the directions
    axes.plot(front[:, 0], front[:, 1], drawstyle="steps-post", color="tab:red", lw=1)
    axes.scatter(front[:, 0], front[:, 1], s=18, color="tab:red", zorder=3,
                 label="Pareto front")
    axes.set(xlabel=_label(objectives[0]), ylabel=_label(objectives[1]))
    if objectives[0].log_scale:
        axes.set_xscale("log")
    if objectives[1].log_scale:
        axes.set_yscale("log")
    axes.set_xlim(x_low, x_high)
    axes.set_ylim(y_low, y_high)
    axes.grid(alpha=0.3)
    axes.legend()
    return _png(figure, image_format)


def parallel_coordinates(front: np.ndarray, objectives: Sequence[Objective],
                         image_format: str = "png") -> bytes:
    """PNG with one vertical axis per objective and one line per front member; each axis is
    min-max normalized (log10 first where the objective is log-scaled) and labelled with its
    range, since the objectives' units are unrelated."""
    values = np.asarray(front, dtype=float).reshape(-1, len(objectives))
    scaled = np.column_stack([np.log10(np.maximum(values[:, j], 1e-300)) if o.log_scale
                              else values[:, j] for j, o in enumerate(objectives)])
    low, high = scaled.min(axis=0, initial=np.inf), scaled.max(axis=0, initial=-np.inf)
    span = np.where(high > low, high - low, 1.0)
    normalized = np.where(high > low, (scaled - low) / span, 0.5)  # a constant axis: middle
    figure, axes = _axes(max(6.0, 1.8 * len(objectives)), 4.5)
    x = np.arange(len(objectives))
    for row in normalized:
        axes.plot(x, row, color="tab:red", alpha=0.5, lw=1)
    for j in x:
        axes.axvline(j, color="0.3", lw=0.8)
        if len(values):  # the normalization is monotonic: bottom is the minimum, top the max
            axes.annotate(f"{values[:, j].min():.3g}", (j, -0.06), ha="center", va="top")
            axes.annotate(f"{values[:, j].max():.3g}", (j, 1.06), ha="center", va="bottom")
    axes.set_xticks(x, [f"{o.name}\n({'min' if o.direction == 'minimize' else 'max'}"
                        f"{', log' if o.log_scale else ''})" for o in objectives])
    axes.set_yticks([])
    axes.set_ylim(-0.15, 1.15)
    axes.set_title(f"Pareto front: {len(values)} members (each axis min-max normalized)")
    return _png(figure, image_format)


# -- sections ------------------------------------------------------------------------------
def _header(info: Any, statuses: Sequence[str]) -> str:
    duplicates = statuses.count("duplicate")
    rate = duplicates / len(statuses) if statuses else 0.0
    created = datetime.datetime.fromtimestamp(info.created_at).isoformat(" ", "seconds")
    rows = [("space", info.space), ("status", info.status), ("seed", info.seed),
            ("created", created), ("candidates", info.candidates),
            ("evaluations", info.evaluations),
            ("cache hits", f"{duplicates} of {len(statuses)} candidates ({rate:.1%})"),
            ("objectives", ", ".join(f"{n} ({d})" for n, d in info.objectives))]
    environment = info.environment or {}
    versions = environment.get("versions") or {}
    rows += [("device", environment.get("device", "not recorded")),
             ("python", environment.get("python", "not recorded")),
             ("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "-")]
    try:
        config = yaml.safe_dump(info.config, sort_keys=False)
    except yaml.YAMLError:  # a value YAML cannot represent: JSON says it all the same
        config = json.dumps(info.config, indent=2, default=str)
    return (f"<h1>{escape(info.name)}</h1>\n{_table(['', ''], rows, header=False)}\n"
            f"<details><summary>campaign config</summary><pre>{escape(config)}</pre></details>")


def _progress_section(evaluations: Sequence[EvaluationRow],
                      objectives: Sequence[Objective]) -> str:
    if all(o.reference is not None for o in objectives):
        x, y = hypervolume_over_evaluations(evaluations, objectives)
        png = _line_plot(x, y, "evaluations", "hypervolume")
        caption = ("Hypervolume of the non-dominated set after each number of evaluations, "
                   "on the objectives' minimization scales (log10 where log-scaled) against "
                   f"the reference point {[o.reference for o in objectives]}.")
        return _figure_section("Hypervolume over evaluations", png, caption)
    first = objectives[0]
    x, y = best_over_evaluations(evaluations, first)
    png = _line_plot(x, y, "evaluations", f"best {first.name}", log=first.log_scale)
    caption = (f"Some objective has no hypervolume reference, so this shows the best "
               f"{first.name} found after each number of evaluations instead.")
    return _figure_section(f"Best {first.name} over evaluations", png, caption)


def _cache_section(statuses: Sequence[str]) -> str:
    if not statuses:
        return "<h2>Cache hits</h2><p>No candidates.</p>"
    hits = np.cumsum(np.asarray(statuses) == "duplicate")
    numbers = _checkpoints(len(statuses), 1000)  # thinned: the curve is smooth anyway
    png = _line_plot(numbers, hits[numbers - 1] / numbers, "candidates",
                     "cumulative cache-hit rate")
    caption = ("Fraction of the candidates so far that the functional-equivalence cache "
               "answered (status duplicate) instead of evaluating them.")
    return _figure_section("Cache-hit rate over candidates", png, caption)


def _front_caption(objectives: Sequence[Objective]) -> str:
    if len(objectives) == 1:
        return "Histogram of the evaluated values of the single objective."
    if len(objectives) == 2:
        return (f"Evaluated candidates (grey, at most {MAX_SCATTER:,} drawn) and the Pareto "
                "front (red).")
    return "Parallel coordinates of the Pareto front members."


def _candidates_section(title: str, candidates: Sequence[CandidateInfo],
                        objectives: Sequence[Objective]) -> str:
    rows = [(c.number, *_objective_cells(c.objectives, objectives),
             _Raw(f"<pre>{escape(c.program)}</pre>")) for c in candidates]
    headers = ["#", *(o.name for o in objectives), "program"]
    body = _table(headers, rows) if rows else "<p>None.</p>"
    return f"<h2>{escape(title)}</h2>\n{body}"


def _baselines_section(results: Results, campaign: str | int,
                       objectives: Sequence[Objective]) -> str:
    space = results.space(campaign)
    try:
        programs = space.baselines()
    except Exception as error:  # the report is still worth having without baselines
        return f"<h2>Baselines</h2><p class=error>{escape(_reason(error))}</p>"
    rows = []
    for name, text in programs.items():
        try:  # evaluated exactly as a campaign would: parsed, simplified, one batch of one
            program = space.simplify(space.parse(text, name))[0]
            (evaluation,) = space.evaluate([program])
            cells = _objective_cells(evaluation.objectives, objectives) if evaluation.ok else \
                [_Raw(f"<span class=error>{escape(evaluation.error or '')}</span>")] + \
                [""] * (len(objectives) - 1)
        except Exception as error:  # one broken baseline must not break the page
            cells = [_Raw(f"<span class=error>{escape(_reason(error))}</span>")] + \
                [""] * (len(objectives) - 1)
        rows.append((name, *cells, _Raw(f"<pre>{escape(text)}</pre>")))
    headers = ["baseline", *(o.name for o in objectives), "program"]
    return ("<h2>Baselines</h2>\n<p>The space's hand-written programs, evaluated now with "
            f"the campaign's settings.</p>\n{_table(headers, rows)}")


# -- HTML ----------------------------------------------------------------------------------
class _Raw(str):
    """Markup built here (already escaped); every other table cell is escaped."""


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _objective_cells(values: dict[str, float] | None, objectives: Sequence[Objective]
                     ) -> list[str]:
    values = values or {}
    return [f"{values[o.name]:.6g}" if o.name in values else "-" for o in objectives]


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], header: bool = True) -> str:
    def cell(value: Any) -> str:
        return value if isinstance(value, _Raw) else escape(str(value))

    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>" if header \
        else ""
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>\n"
                   for row in rows)
    return f"<table>{head}\n{body}</table>"


def _figure_section(title: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f"<h2>{escape(title)}</h2>\n<figure><img alt=\"{escape(title)}\" "
            f"src=\"data:image/png;base64,{data}\">\n"
            f"<figcaption>{escape(caption)}</figcaption></figure>")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
pre { margin: 0; font-size: 0.9em; white-space: pre-wrap; }
details pre { background: #f6f6f6; padding: 0.6em; }
figure { margin: 0.5em 0; } figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
.error { color: #b00; }
"""


def _page(title: str, sections: Sequence[str]) -> str:
    body = "\n".join(f"<section>\n{s}\n</section>" for s in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")
