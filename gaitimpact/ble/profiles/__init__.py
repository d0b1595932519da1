"""Registry of sensor profiles: every module in this package that defines `PROFILE` (a `Profile`).

Adding a profile = adding one module here (a `Profile` subclass instance as PROFILE, its `Decoder`, plus a
`SimServer` for the simulated sensor); nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from gaitimpact.ble.profiles.base import Profile, normalise_uuid

_cache: dict[str, Profile] | None = None


def all_profiles() -> dict[str, Profile]:
    """Profiles by NAME, discovered by scanning this package."""
    global _cache
    if _cache is None:
        found: dict[str, Profile] = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_") or info.name == "base":
                continue
            prof = getattr(importlib.import_module(f"{__name__}.{info.name}"), "PROFILE", None)
            if isinstance(prof, Profile):
                found[prof.NAME] = prof
        _cache = dict(sorted(found.items()))
    return _cache


def get_profile(name: str) -> Profile:
    """The profile called `name`; KeyError lists the known ones."""
    profiles = all_profiles()
    if name not in profiles:
        raise KeyError(f"unknown profile {name!r} (known: {', '.join(profiles)})")
    return profiles[name]


def profile_for_services(service_uuids: Iterable[str], name: str | None = None) -> Profile | None:
    """The first profile whose service is among `service_uuids` (or whose name rule fits), else None."""
    uuids = {normalise_uuid(u) for u in service_uuids}
    for prof in all_profiles().values():
        if prof.matches(uuids):
            return prof
    for prof in all_profiles().values():
        if prof.matches_name(name):
            return prof
    return None
