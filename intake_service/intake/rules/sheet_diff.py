"""What changed between two versions of a sheet, as dotted paths."""

from __future__ import annotations

from typing import Any


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Paths (``location.coordinates.lat``, ``victims``) whose value differs.

    Objects are compared key by key; a list is one value (a victim added or
    removed changes ``victims`` as a whole), since list positions carry no identity.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths.extend(changed_paths(before[key], after[key], path))
        return paths
    return [] if before == after else [prefix]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged
