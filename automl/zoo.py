"""The zoo: programs the project discovered, shipped as DSL files with a header.

Each space ships its own, in the folder its `SearchSpace.zoo_directory` names (by default
``discovered/`` beside the module that defines it: ``search_spaces/<space>/discovered/``), so a
third-party space's discoveries are listed as the built-in ones are. A file ``NAME.dsl`` starts
with comment lines ``# key: value``::

    # space: autonumerics
    # settings: {target: exp2, fit_constants: true}
    # objectives: {max_relative_error: 8.7e-4, cost: 4}
    # constants: {c0: -3.407, c1: 0.414, c2: -2.413}
    # fit start: {c0: -3.1, c1: 0.5, c2: -2.0}
    # found by: configs/autonumerics_exp2.yaml, seed 0, candidate 942
    # reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost4.dsl
    f = ...

`settings`, `objectives`, `constants` (fitted constants, used by export), `fit start`
(optional: where `automl reproduce` starts the constants' fit) and `float32 constants`
(optional: a float32-mode entry's constants refined on the float32 lattice, which its jax
export and `bench_float32.py --program` run with) are YAML flow mappings (read
with ``yaml.safe_load``); the program follows the header. `automl zoo` lists the entries,
`automl reproduce FILE` re-evaluates one and compares with the recorded objectives.

`fit start`: `automl export --format zoo` writes the start the stored evaluation recorded
(a parent's constants, passed on). The shipped AutoNumerics entries record their fitted
constants there instead: a fit from the space's own random starts takes a different path on
another CPU (numpy's SIMD kernels change last bits), and two entries found that way did not
reproduce on another machine. Reproducing from the recorded constants checks that the program
with them reaches the recorded error, not that a random-start fit finds them again. The
float32-mode entries keep the start their evaluation recorded: the float32 lattice refinement
that follows the fit ends elsewhere when the fit starts from its own result (0.851 instead of
0.847 ULP for `exp2_float32_faithful`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from automl.plugins import SPACES

REQUIRED = ("space", "objectives")


class ZooError(ValueError):
    pass


@dataclass(frozen=True)
class ZooEntry:
    path: Path
    space: str
    settings: dict[str, Any]
    objectives: dict[str, float]
    program: str  # the whole file: the DSL parser skips the header comments
    header: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def found_by(self) -> str:
        return self.header.get("found by", "")

    @property
    def metrics(self) -> dict[str, Any]:
        """What an evaluation's metrics would hold: the fitted constants, where their fit
        started (when it was not from the space's own random starts) and their float32
        refinement, if recorded."""
        metrics = {}
        for key, header_key in (("constants", "constants"), ("fit_start", "fit start"),
                                ("float32_constants", "float32 constants")):
            values = _mapping(self.path, self.header, header_key)
            if values:
                metrics[key] = {str(k): float(v) for k, v in values.items()}
        return metrics

    # how `automl zoo` names the file: relative to the folder its space's package is in
    # (``search_spaces/autonumerics/discovered/exp2_cost4.dsl``), or absolute
    relative_path: str = ""

    def __post_init__(self) -> None:
        if not self.relative_path:
            object.__setattr__(self, "relative_path", str(self.path))


def entry_text(space: str, settings: dict[str, Any], objectives: dict[str, float],
               program: str, constants: dict[str, float] | None = None,
               found_by: str = "", path: str = "FILE",
               fit_start: dict[str, float] | None = None,
               float32_constants: dict[str, float] | None = None) -> str:
    """A zoo file: the header `read_entry` reads (settings as the campaign ran them, so
    `automl reproduce` re-evaluates under the same settings), then the program."""
    def flow(mapping: dict[str, Any]) -> str:
        return yaml.safe_dump(mapping, default_flow_style=True, width=10**9,
                              sort_keys=False).strip()

    lines = [f"# space: {space}", f"# settings: {flow(settings)}",
             f"# objectives: {flow(objectives)}"]
    if constants:
        lines.append(f"# constants: {flow(constants)}")
    if fit_start:  # the fit started here (inherited), so reproducing it starts here too
        lines.append(f"# fit start: {flow(fit_start)}")
    if float32_constants:  # a float32-mode entry: what its ULPs were measured with
        lines.append(f"# float32 constants: {flow(float32_constants)}")
    if found_by:
        lines.append(f"# found by: {found_by}")
    lines.append(f"# reproduce: automl reproduce {path}")
    return "\n".join(lines) + "\n" + program.rstrip("\n") + "\n"


def read_entry(path: Path) -> ZooEntry:
    """Parse a zoo file's header; ZooError naming the file and line on a malformed one."""
    text = path.read_text()
    header: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        key, separator, value = line[1:].partition(":")
        if separator and key.strip():
            header[key.strip().lower()] = value.strip()
        elif line[1:].strip():
            raise ZooError(f"{path}:{number}: expected '# key: value' in the header")
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        raise ZooError(f"{path}: header lacks {', '.join(missing)} (needs '# space: NAME' and "
                       f"'# objectives: {{name: value, ...}}')")
    settings = _mapping(path, header, "settings")
    objectives = _mapping(path, header, "objectives")
    try:
        values = {str(k): float(v) for k, v in objectives.items()}
    except (TypeError, ValueError):
        raise ZooError(f"{path}: objectives must map names to numbers") from None
    if not all(math.isfinite(v) for v in values.values()):
        raise ZooError(f"{path}: objectives must be finite")
    return ZooEntry(path, header["space"], settings, values, text, header)


def read_program_file(path: Path) -> tuple[str, ZooEntry | None]:
    """A program file's text, and its zoo entry when it has a zoo header (a plain DSL file,
    comments and all, has none)."""
    try:
        entry = read_entry(path)
    except ZooError:
        return path.read_text(), None
    return entry.program, entry


def _mapping(path: Path, header: dict[str, str], key: str) -> dict[str, Any]:
    if key not in header:
        return {}
    try:
        value = yaml.safe_load(header[key])
    except yaml.YAMLError as error:
        raise ZooError(f"{path}: '{key}' is not a YAML mapping: {error}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ZooError(f"{path}: '{key}' must be a mapping like {{a: 1}}, got {value!r:.60}")
    return value


def entries() -> list[ZooEntry]:
    """Every zoo file of every registered space, by space then name."""
    found = []
    for name in SPACES.names():
        space = SPACES.load(name)
        folder = space.zoo_directory()
        if folder is None:
            continue
        anchor = space.package_root()
        for path in sorted(folder.glob("*.dsl")):
            entry = read_entry(path)
            try:
                shown = str(path.resolve().relative_to(anchor))
            except ValueError:
                shown = str(path)
            found.append(dataclasses.replace(entry, relative_path=shown))
    return found
