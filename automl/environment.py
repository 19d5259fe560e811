"""What a campaign ran on: platform and library versions, Python, host and device.

Recorded when a campaign is created so that `automl reproduce` can say when a re-run happens
under different versions (a likely reason for a mismatch). Cheap: versions come from package
metadata, and jax is only asked for its device when something already imported it.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any

LIBRARIES = ("automl-evolution", "jax", "jaxlib", "numpy", "ray", "sqlalchemy", "optax")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _device() -> str:
    jax = sys.modules.get("jax")
    if jax is None:
        return f"cpu ({platform.processor() or platform.machine()})"
    devices = jax.devices()
    return f"{devices[0].platform}: {devices[0].device_kind} x{len(devices)}"


def capture() -> dict[str, Any]:
    return {
        "versions": {name: _version(name) for name in LIBRARIES},
        "python": platform.python_version(),
        "host": f"{platform.system()} {platform.machine()}",
        "device": _device(),
    }


def differences(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Human-readable lines for every version/device that differs (empty: same setup)."""
    if not recorded:
        return ["the campaign recorded no environment (stored by an older version)"]
    lines = []
    old, new = recorded.get("versions", {}), current.get("versions", {})
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            lines.append(f"{name} {old.get(name)} then, {new.get(name)} now")
    for key in ("python", "host", "device"):
        if recorded.get(key) != current.get(key):
            lines.append(f"{key} {recorded.get(key)} then, {current.get(key)} now")
    return lines
