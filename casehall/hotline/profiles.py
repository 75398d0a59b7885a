"""Time-limit profiles of hotline orders, read from ``profiles.yaml`` (or a file named by the setting)."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from casehall.models.hotline import HotlineProfile

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")


class UnknownProfile(LookupError):
    """The setting names a profile the file does not hold."""


def load_profiles(path: Path = PROFILES_FILE) -> dict[str, HotlineProfile]:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {name: HotlineProfile.model_validate({"name": name, **body}) for name, body in raw.items()}


@cache
def _cached(path: str) -> dict[str, HotlineProfile]:
    return load_profiles(Path(path))


def profile(name: str, path: Path | None = None) -> HotlineProfile:
    """The profile ``name`` (validated once per process)."""
    profiles = _cached(str(path or PROFILES_FILE))
    if name not in profiles:
        raise UnknownProfile(f"no hotline profile {name!r}; the file has: {', '.join(sorted(profiles))}")
    return profiles[name]
