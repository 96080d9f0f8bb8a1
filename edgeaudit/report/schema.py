"""Validate result documents (``audit.json``, ``compare.json``) against the JSON Schemas shipped in the package.

A result written on a device is re-read and re-rendered elsewhere, so its form is checked before anything is
drawn from it: the error names the JSON path of the first problem (``$.claims[3].verdict``) and what is wrong.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from edgeaudit.errors import EdgeAuditError

# ``schema`` field of a result -> schema file in edgeaudit/schemas
RESULT_SCHEMAS: dict[str, str] = {
    "edgeaudit.audit": "audit.schema.json",
    "edgeaudit.compare": "compare.schema.json",
    "edgeaudit.sensitivity": "sensitivity.schema.json",
    "edgeaudit.merge": "merge.schema.json",
}


@cache
def _shipped_schema(name: str) -> str:
    return resources.files("edgeaudit").joinpath(f"schemas/{RESULT_SCHEMAS[name]}").read_text(encoding="utf-8")


def _with_kinds(node: Any, shipped: set[str], kinds: list[str]) -> Any:
    """``node`` with every claim-kind enum (an enum holding exactly the shipped kinds) widened to ``kinds``."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and set(node["enum"]) == shipped:
            return {**node, "enum": kinds}
        return {key: _with_kinds(value, shipped, kinds) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_kinds(value, shipped, kinds) for value in node]
    return node


@cache
def _result_schema(name: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    from edgeaudit.claim_kinds import BUILT_IN_KINDS

    return _with_kinds(json.loads(_shipped_schema(name)), set(BUILT_IN_KINDS), list(kinds))


def result_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for results whose ``schema`` field is ``name``; claim kinds are the
    registry's (``edgeaudit.claim_kinds``), so a claim kind added by a plugin validates too."""
    from edgeaudit.claim_kinds import KINDS

    return _result_schema(name, tuple(KINDS))


def json_path(parts) -> str:
    """``["claims", 3, "verdict"]`` -> ``$.claims[3].verdict``."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    if error.validator == "additionalProperties":
        return error.message.replace(" were unexpected", " not allowed here").replace(" was unexpected", " not allowed here")
    if error.validator == "oneOf" and error.context:
        # "x is not valid under any of the given schemas" says nothing; the complaint of the branch whose type
        # matched (an array of the wrong length, not "is not of type 'null'") does.
        deeper = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        return _describe(jsonschema.exceptions.best_match(deeper or error.context))
    return error.message if len(error.message) < 200 else error.message[:197] + "..."


def _first_error(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    """The shallowest problem, in document order among equals: the one a person should fix first."""
    return min(errors, key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))


def _check_version(document: dict[str, Any], name: str) -> None:
    """A document from a newer (or older) edgeaudit gets its own message, not a list of schema complaints."""
    supported = result_schema(name)["properties"]["schema_version"]["const"]
    version = document.get("schema_version")
    if version == supported:
        return
    if isinstance(version, int) and not isinstance(version, bool) and version > supported:
        raise EdgeAuditError(f"$.schema_version: {version} is newer than this edgeaudit reads ({supported})",
                             hint="upgrade edgeaudit to read it, or re-run the command that wrote it")
    raise EdgeAuditError(f"$.schema_version: {version!r} is not a schema version this edgeaudit reads ({supported})",
                         hint="re-run the command that wrote it")


def validate_result(document: Any) -> None:
    """Raise ``EdgeAuditError`` naming the JSON path of the first problem, or return when the document is valid."""
    if not isinstance(document, dict):
        raise EdgeAuditError(f"$: a result document is a JSON object, not {type(document).__name__}",
                             hint="pass the audit.json or compare.json that edgeaudit wrote")
    name = document.get("schema")
    if name not in RESULT_SCHEMAS:
        known = ", ".join(repr(key) for key in RESULT_SCHEMAS)
        raise EdgeAuditError(f"$.schema: {name!r} is not an edgeaudit result (expected one of {known})",
                             hint="pass the audit.json or compare.json that edgeaudit wrote")
    _check_version(document, name)
    validator = jsonschema.Draft202012Validator(result_schema(name))
    errors = list(validator.iter_errors(document))
    if errors:
        first = _first_error(errors)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise EdgeAuditError(f"{json_path(first.absolute_path)}: {_describe(first)}{more}",
                             hint=f"not a valid {name} document (schema version {document.get('schema_version')!r})")


def load_result(path: str | Path) -> dict[str, Any]:
    """Read and validate a result file; every problem becomes one ``EdgeAuditError`` line naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EdgeAuditError(f"{path}: no such file",
                             hint="pass DIR/audit.json from 'edgeaudit audit' or DIR/compare.json from 'edgeaudit compare'") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EdgeAuditError(f"{path}: cannot read it ({error})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise EdgeAuditError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    try:
        validate_result(document)
    except EdgeAuditError as error:
        raise EdgeAuditError(f"{path}: {error.message}", hint=error.hint) from None
    return document
