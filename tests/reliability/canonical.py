"""Canonical JSON for determinism checks: the same run twice must give the same document, timings aside.

``canonical(document)`` drops every key that records *when* or *how long* (``*seconds*``, ``*per_second*``,
``timings``, ``created``, ``timestamp`` ...) at any depth, sorts keys, and returns plain data; compare two
with ``assert_same_document``. Intended for ``audit.json`` (two audits with the same seed) and usable on
``extraction.json`` and ``compare.json``. Extra key patterns (e.g. output directories when two runs write to
different places) are passed as ``drop``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TIMING_KEYS: tuple[str, ...] = (
    "*seconds*", "*per_second*", "timings", "timing", "created", "created_at", "timestamp", "*_timestamp",
    "started", "finished", "elapsed*", "wall_time*", "duration*",
)  # fmt: skip


def _dropped(key: str, patterns: tuple[str, ...]) -> bool:
    lowered = key.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in patterns)


def canonical(document: Any, *, drop: Iterable[str] = ()) -> Any:
    """``document`` without timing keys (and keys matching ``drop``), with dict keys sorted."""
    patterns = TIMING_KEYS + tuple(pattern.lower() for pattern in drop)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(node[key]) for key in sorted(node) if not _dropped(str(key), patterns)}
        if isinstance(node, list | tuple):
            return [walk(item) for item in node]
        return node

    return walk(document)


def canonical_text(document: Any, *, drop: Iterable[str] = ()) -> str:
    """A stable text form (sorted keys, two-space indent) for diffs and hashes."""
    return json.dumps(canonical(document, drop=drop), indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=True) + "\n"


def load_canonical(path: str | Path, *, drop: Iterable[str] = ()) -> Any:
    return canonical(json.loads(Path(path).read_text(encoding="utf-8")), drop=drop)


def first_difference(a: Any, b: Any, where: str = "$") -> str | None:
    """The JSON path of the first place two canonical documents differ, with both values; None if equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}.{key}: only in {'second' if key not in a else 'first'}"
            found = first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    same = a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)  # NaN == NaN here
    return None if same else f"{where}: {a!r} vs {b!r}"


def assert_same_document(a: Any, b: Any, *, drop: Iterable[str] = ()) -> None:
    """Fail naming the first differing JSON path unless ``a`` and ``b`` agree once canonicalised."""
    difference = first_difference(canonical(a, drop=drop), canonical(b, drop=drop))
    assert difference is None, f"documents differ at {difference}"
