"""Registry of sensor profiles: every module in this package that defines NAME and SERVICE_UUID.

Adding a profile = adding one module here (NAME, SERVICE_UUID, DESCRIPTION, matches, configure, start, stop,
Decoder, plus `SimServer` for the simulated sensor); nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType

from gaitimpact.ble.profiles.base import normalise_uuid

_REQUIRED = ("NAME", "SERVICE_UUID", "DESCRIPTION", "matches", "configure", "start", "stop", "Decoder")
_cache: dict[str, ModuleType] | None = None


def all_profiles() -> dict[str, ModuleType]:
    """Profile modules by NAME, discovered by scanning this package."""
    global _cache
    if _cache is None:
        found: dict[str, ModuleType] = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_") or info.name == "base":
                continue
            mod = importlib.import_module(f"{__name__}.{info.name}")
            if all(hasattr(mod, attr) for attr in _REQUIRED):
                found[mod.NAME] = mod
        _cache = dict(sorted(found.items()))
    return _cache


def get_profile(name: str) -> ModuleType:
    """The profile module called `name`; KeyError lists the known ones."""
    profiles = all_profiles()
    if name not in profiles:
        raise KeyError(f"unknown profile {name!r} (known: {', '.join(profiles)})")
    return profiles[name]


def profile_for_services(service_uuids: Iterable[str], name: str | None = None) -> ModuleType | None:
    """The first profile whose service is among `service_uuids` (or whose name rule fits), else None."""
    uuids = {normalise_uuid(u) for u in service_uuids}
    for mod in all_profiles().values():
        if mod.matches(uuids):
            return mod
    for mod in all_profiles().values():
        by_name = getattr(mod, "matches_name", None)
        if by_name is not None and by_name(name):
            return mod
    return None
