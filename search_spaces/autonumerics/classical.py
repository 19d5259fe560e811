"""The classical approximations of a target at their strongest, cost by cost (issue 28):
what an evolved program has to beat, written with the ops the search has, and measured by the
evaluator that measures evolved programs (`automl baselines --space autonumerics`).

Families (each a name prefix, `family`):

- ``minimax``: the relative-error minimax polynomial (Remez) in Horner form, an add and a mul
  per degree (cost 2d);
- ``minimax_fma``: the same polynomial with one fma per Horner step (cost d);
- ``estrin_fma``: the same polynomial in Estrin's scheme, pairs ``fma(x, a1, a0)`` joined by
  ``fma(x^2k, hi, lo)``: more ops than Horner (x^2, x^4, ... cost one each) for a shorter
  dependency chain, so under the op count it is never the cheaper form; listed so that this
  is seen, not assumed;
- ``rational_minimax`` and ``rational_minimax_fma``: p/q (q's constant term 1) fitted for the
  least max relative error from the Pade approximant (`AutoNumericsSpace.rational_minimax`),
  in Horner form without and with fma (2(m + n) + 1 and m + n + 1 ops, 1 more for a shifted
  center), every order with |m - n| <= 1 up to the cost limit;
- ``pade`` and ``taylor``: the expansions themselves, for scale.

A target vanishing in its interval (log and log2 at 1, erf, tanh, gelu, sin, log1p and expm1
at 0, a user's target at its zero) keeps its zero exact in
every family except Taylor and Pade: ``(x - z) * q(x)`` or ``(x - z) * (p / q)``, where q (p/q)
approximates f / (x - z), so the relative error at the zero is bounded.

Each program is evaluated by the space (`AutoNumericsSpace.evaluate_one`: the training grid's
max relative error, a fit for none of them since every coefficient is a literal, the pole
check) and re-measured on the validation points (`AutoNumericsSpace.validation_error`: 10,000
random points and a 2^16-point grid against mpmath), which is the error reported, as for an
evolved front (`front_report`). The fma is the space's, rounded once (`automl.fma`).

Per family and cost c from 2 to `max_cost`, the best program of that family costing at most c
(an ``autonumerics_baseline`` row); per cost, ``best_classical``: the least of those whose ops
the space's op set has (an ``autonumerics_best_classical`` row), by the rule the campaign's
baselines follow too (`written_with`): without ``sub``, ``x - 1.0`` is written ``x + (-1.0)``
(bit for bit the same), so the paper's op set {add, mul, fma} keeps log's zero.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

from automl.ir import Instruction, Program
from automl.workflows import RowRecorder, RowSink, WorkflowReport
from search_spaces.autonumerics import polynomials, targets

FAMILIES = ("minimax", "minimax_fma", "estrin_fma", "rational_minimax", "rational_minimax_fma",
            "pade", "taylor")
MIN_COST = 2
MAX_COST = 16


def family(name: str, families: Sequence[str]) -> str | None:
    """The family of baseline `name`: the longest of `families` it starts with (and "_")."""
    for prefix in sorted(families, key=len, reverse=True):
        if name.startswith(prefix + "_"):
            return prefix
    return None


def family_of(name: str) -> str | None:
    """The family of a classical program's name (its longest prefix among `FAMILIES`)."""
    return family(name, FAMILIES)


def estrin_text(terms: Sequence[str], input: str = "x") -> tuple[list[str], str]:
    """Estrin's scheme over terms t0..td (low -> high) with fma: statements and the name of
    the result. Level 0 pairs ``fma(x, t1, t0)``; level k joins neighbours as
    ``fma(x^(2^k), hi, lo)``; an odd one out moves up a level as it is."""
    lines: list[str] = []
    nodes = [f"fma({input}, {terms[i + 1]}, {terms[i]})" if i + 1 < len(terms) else terms[i]
             for i in range(0, len(terms), 2)]
    power, level = input, 0
    while len(nodes) > 1:
        level += 1
        lines.append(f"e{level} = {power} * {power}")
        power = f"e{level}"
        joined = []
        for i in range(0, len(nodes), 2):
            if i + 1 < len(nodes):
                name = f"s{level}_{i // 2}"
                lines.append(f"{name} = fma({power}, {nodes[i + 1]}, {nodes[i]})")
                joined.append(name)
            else:
                joined.append(nodes[i])
        nodes = joined
    return lines, nodes[0]


def estrin_programs(target: targets.Target, degrees: range) -> dict[str, str]:
    """``estrin_fma_<d>``: the degree-d relative minimax polynomial in Estrin's scheme (times
    the zero's factor where the target vanishes in its interval)."""
    programs = {}
    for degree in degrees:
        try:
            minimax = polynomials.remez_relative(target, degree)
        except ValueError:
            continue
        factored = minimax.root is not None and minimax.quotient_coeffs is not None
        coefficients = minimax.quotient_coeffs if factored else minimax.coeffs
        if len(coefficients) < 3:  # Estrin is Horner below degree 2
            continue
        lines, result = estrin_text([polynomials.literal(c) for c in coefficients])
        if factored:
            lines.append(f"f = {polynomials.zero_factor(minimax.root)} * {result}")
        else:
            lines[-1] = "f = " + lines[-1].split(" = ", 1)[1]
        programs[f"estrin_fma_{degree}"] = "\n".join(lines)
    return programs


def rational_orders(max_cost: int) -> list[tuple[int, int]]:
    """[m/n] orders with |m - n| <= 1 whose fma form fits `max_cost` (m + n + 1 ops, and at
    most 3 more for a shift and a zero's factor)."""
    return [(m, n) for m in range(1, max_cost) for n in range(1, max_cost)
            if abs(m - n) <= 1 and m + n + 1 <= max_cost]


def measuring_space(space: Any) -> Any:
    """`space` with every op a classical form writes (add, sub, mul, div, fma): the op set
    changes what parses, not what a program computes."""
    ops = tuple(dict.fromkeys((*space.settings.ops, "add", "sub", "mul", "div", "fma")))
    if set(ops) == set(space.settings.ops):
        return space
    return type(space)({**space.settings.model_dump(), "ops": ops})


def written_with(program: Program, ops: Collection[str]) -> Program | None:
    """`program` in the op set `ops`, or None when it needs an op `ops` lacks. Where `sub` is
    missing (the paper's {add, mul, fma}), a subtraction of a literal is written as an add of
    its negation: ``x - 1.0`` is exactly ``x + (-1.0)``, so a zero-keeping form stays. The one
    rule for the campaign's baselines (`AutoNumericsSpace.baselines`) and `best_classical`."""
    if "sub" not in ops:
        program = program.replace(instructions=tuple(
            Instruction(ins.register, "add", (ins.args[0], -ins.args[1]))
            if ins.op == "sub" and isinstance(ins.args[1], float) else ins
            for ins in program.instructions))
    return program if {ins.op for ins in program.instructions} <= set(ops) else None


def measured(space: Any, max_cost: int = MAX_COST) -> list[dict[str, Any]]:
    """Every classical program (`AutoNumericsSpace.classical_programs`) evaluated: name,
    family, cost, error (validation points), training_error (the search's objective), whether
    the space's op set has its ops, and its text. A program the evaluator fails (a pole) is
    left out."""
    measuring = measuring_space(space)
    allowed = set(space.settings.ops)
    rows = []
    for name, text in measuring.classical_programs(max_cost).items():
        kind = family_of(name)
        if kind not in FAMILIES:
            continue
        program = measuring.parse(text, f"baseline {name}")
        try:
            objectives, metrics = measuring.evaluate_one(program)
        except (ValueError, ArithmeticError):
            continue
        error = measuring.validation_error(program, metrics["constants"])
        if not math.isfinite(error):
            continue
        rows.append({"name": name, "family": kind, "cost": objectives["cost"], "error": error,
                     "training_error": objectives["max_relative_error"],
                     "in_op_set": written_with(program, allowed) is not None,
                     "program": text.strip()})
    return rows


def best_up_to(rows: Sequence[dict[str, Any]], cost: float) -> dict[str, Any] | None:
    """The row of least error among `rows` of cost <= `cost` (the cheaper on a tie)."""
    return min((r for r in rows if r["cost"] <= cost), key=lambda r: (r["error"], r["cost"]),
               default=None)


def classical_report(space: Any, *, max_cost: int = MAX_COST,
                     on_row: RowSink | None = None) -> WorkflowReport:
    """Per family and cost 2..`max_cost`, its best program of at most that cost
    (``autonumerics_baseline``), then per cost the best of them in the space's op set
    (``autonumerics_best_classical``)."""
    record = RowRecorder(on_row)
    rows = measured(space, max_cost)
    target = space.target.name
    for kind in FAMILIES:
        mine = [r for r in rows if r["family"] == kind]
        for cost in range(MIN_COST, max_cost + 1):
            best = best_up_to(mine, cost)
            if best is not None:
                record({"metric": "autonumerics_baseline", "target": target,
                        "family": kind, "cost": float(cost), "error": best["error"],
                        "name": best["name"], "program_cost": best["cost"],
                        "training_error": best["training_error"],
                        "in_op_set": best["in_op_set"], "program": best["program"]})
    best_classical = {}
    for cost in range(MIN_COST, max_cost + 1):
        best = best_up_to([r for r in rows if r["in_op_set"]], cost)
        if best is not None:
            best_classical[cost] = best
            record({"metric": "autonumerics_best_classical", "target": target,
                    "cost": float(cost), "error": best["error"], "family": best["family"],
                    "name": best["name"], "program_cost": best["cost"]})
    table = {(r["family"], r["cost"]): r["error"] for r in record.rows
             if r["metric"] == "autonumerics_baseline"}
    header = ["cost", *FAMILIES, "best_classical"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for cost in range(MIN_COST, max_cost + 1):
        cells = [f"{table[(kind, float(cost))]:.3g}" if (kind, float(cost)) in table else "-"
                 for kind in FAMILIES]
        best = best_classical.get(cost)
        cells.append(f"{best['error']:.3g} ({best['name']})" if best else "-")
        lines.append(f"| {cost} | " + " | ".join(cells) + " |")
    return WorkflowReport(
        title=f"classical approximations of {target} on [{space.target.lower:g}, "
              f"{space.target.upper:g}] (ops {', '.join(space.settings.ops)}; validation "
              f"points)",
        rows=tuple(record.rows),
        summary={"best_classical": {cost: best["error"]
                                    for cost, best in best_classical.items()}},
        markdown="\n".join(lines) + "\n",
        columns={"autonumerics_baseline": ("family", "cost", "error", "name", "in_op_set"),
                 "autonumerics_best_classical": ("cost", "error", "family", "name")})
