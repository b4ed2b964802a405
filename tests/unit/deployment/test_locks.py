"""The lock files (``requirements/*.lock``, made by ``./dev lock``) pin every dependency
of pyproject.toml within its declared range, and the dev lock is the app lock plus tools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)")


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(line) for line in listed]


def test_the_app_lock_pins_each_dependency_within_its_range() -> None:
    locked = pins("app.lock")
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements/app.lock: run ./dev lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name}=={locked[name]} is outside {requirement.specifier}: run ./dev lock"
        )


def test_the_dev_lock_is_the_app_lock_plus_the_tools() -> None:
    app, dev = pins("app.lock"), pins("dev.lock")
    assert {name: dev.get(name) for name in app} == app
    for requirement in declared("dev"):
        name = canonicalize_name(requirement.name)
        assert requirement.specifier.contains(dev[name], prereleases=True), name


# Data released by date (2026.6): each release only updates the zone rules.
NO_CEILING = {"tzdata"}


def test_every_runtime_dependency_has_a_ceiling() -> None:
    """A major release is a decision, not an accident of the next build."""
    for requirement in declared():
        if requirement.name in NO_CEILING:
            continue
        assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
            requirement.name
        )
