"""What a campaign ran on: platform and library versions, Python, host and device.

Recorded when a campaign is created so that `automl reproduce` can say when a re-run happens
under different versions (a likely reason for a mismatch), user plug-ins' declared versions
(`automl.imports`) included. Cheap: versions come from package
metadata, and jax is only asked for its device when something already imported it.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl.imports import PluginRef

LIBRARIES = ("automl-evolution", "jax", "jaxlib", "numpy", "ray", "sqlalchemy", "optax")


def package_version(package: str) -> str | None:
    """The installed version of `package` (distribution name), None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _device() -> str:
    """"cpu (x86_64)" on the CPU, whether jax is loaded or not (one machine must not read as
    two); "gpu: NVIDIA H100 80GB HBM3 x1" and the like on an accelerator jax uses."""
    jax = sys.modules.get("jax")
    devices = jax.devices() if jax is not None else []
    if not devices or devices[0].platform == "cpu":
        return f"cpu ({platform.processor() or platform.machine()})"
    return f"{devices[0].platform}: {devices[0].device_kind} x{len(devices)}"


def _same_device(recorded: Any, current: Any) -> bool:
    """Records made before `_device` named the CPU one way said "cpu: cpu x1" when jax was
    loaded: any two CPU descriptions of one host are the same device."""
    def kind(value: Any) -> Any:
        return "cpu" if isinstance(value, str) and value.startswith("cpu") else value
    return kind(recorded) == kind(current)


def capture(plugins: Mapping[str, PluginRef] | None = None) -> dict[str, Any]:
    """The versions, Python, host and device; with `plugins` (`SearchSpace.plugins()`, by
    settings field) also each user plug-in's import string and declared version, under
    ``plugins`` (only when there are any, so other campaigns record what they always did)."""
    captured: dict[str, Any] = {
        "versions": {name: package_version(name) for name in LIBRARIES},
        "python": platform.python_version(),
        "host": f"{platform.system()} {platform.machine()}",
        "device": _device(),
    }
    if plugins:
        captured["plugins"] = {field: ref.as_json() for field, ref in plugins.items()}
    return captured


def plugin_differences(recorded: dict[str, Any] | None, plugins: Mapping[str, PluginRef]
                       ) -> list[str]:
    """One line per user plug-in whose import string or declared version (`plugins`, what
    the space names now) differs from the campaign's record (`capture`'s ``plugins``)."""
    then = (recorded or {}).get("plugins") or {}
    lines = []
    for field in sorted(set(then) | set(plugins)):
        old = then.get(field) or {}
        new = plugins[field].as_json() if field in plugins else {}
        if old.get("identity") != new.get("identity"):
            lines.append(f"plug-in {field}: {old.get('identity')} then, "
                         f"{new.get('identity')} now")
        elif old.get("version") != new.get("version"):
            lines.append(f"plug-in {field} {new.get('identity')!r}: version "
                         f"{old.get('version')} then, {new.get('version')} now")
    return lines


def differences(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Human-readable lines for every version/device that differs (empty: same setup)."""
    if not recorded:
        return ["the campaign recorded no environment (stored by an older version)"]
    lines = []
    old, new = recorded.get("versions", {}), current.get("versions", {})
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            lines.append(f"{name} {old.get(name)} then, {new.get(name)} now")
    for key in ("python", "host"):
        if recorded.get(key) != current.get(key):
            lines.append(f"{key} {recorded.get(key)} then, {current.get(key)} now")
    if not _same_device(recorded.get("device"), current.get("device")):
        lines.append(f"device {recorded.get('device')} then, {current.get('device')} now")
    return lines
