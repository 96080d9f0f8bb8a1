"""Reading result files as typed objects: schema-checked first, so a bad file gets one line naming its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from edgeaudit.errors import EdgeAuditError

T = TypeVar("T")

_WHAT = {"edgeaudit.audit": "an audit (DIR/audit.json from 'edgeaudit audit')",
         "edgeaudit.compare": "a comparison (DIR/compare.json from 'edgeaudit compare')"}


def schema_of(cls: type) -> str:
    from edgeaudit.results.audit_result import AUDIT_SCHEMA, AuditResult
    from edgeaudit.results.compare_result import COMPARE_SCHEMA

    return AUDIT_SCHEMA if cls is AuditResult else COMPARE_SCHEMA


def read_typed(path: str | Path, cls: type[T]) -> T:
    from edgeaudit.report.schema import load_result

    document = load_result(path)
    return typed(document, cls, source=str(path))


def typed(document: dict[str, Any] | T, cls: type[T], *, source: str = "the document") -> T:
    """``document`` as ``cls`` (a parsed, valid result dict, or already the object)."""
    if isinstance(document, cls):
        return document
    expected = schema_of(cls)
    found = document.get("schema") if isinstance(document, dict) else getattr(document, "schema", None)
    if found != expected or not isinstance(document, dict):
        raise EdgeAuditError(f"{source}: is an {found} result, not {_WHAT[expected].split(' (')[0]}",
                             hint=f"pass {_WHAT[expected]}")
    return cls.from_json(document)  # type: ignore[attr-defined]
