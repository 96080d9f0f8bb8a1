"""The shipped JSON Schemas are held to the typed result records: same property names, same JSON types, and
every key the schema requires is one the record always writes. Real documents round-trip through the records in
``tests/edgeaudit/audit/test_plugins.py`` and ``tests/edgeaudit/compare/test_golden.py``."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from importlib import resources

import pytest

from edgeaudit.results import AuditResult, CompareResult
from edgeaudit.results.records import _OMIT_NONE, _READ_HOOKS

_JSON_TYPES = {int: {"integer"}, float: {"number", "integer"}, str: {"string"}, bool: {"boolean"},
               list: {"array"}, dict: {"object"}, type(None): {"null"}}


def _schema(name: str) -> dict:
    return json.loads(resources.files("edgeaudit.schemas").joinpath(name).read_text(encoding="utf-8"))


def _resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].split("/")[-1]]
    return node


def _object_branch(node: dict, root: dict) -> dict:
    """The branch of a ``oneOf`` that describes an object (the other being null)."""
    node = _resolve(node, root)
    for branch in node.get("oneOf", []):
        branch = _resolve(branch, root)
        if "properties" in branch:
            return branch
    return node


def _json_types(annotation) -> set[str]:
    """The JSON types a value of ``annotation`` is written as."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_json_types(arg) for arg in typing.get_args(annotation)))
    if origin is not None:
        return _json_types(origin)
    if annotation in _JSON_TYPES:
        return _JSON_TYPES[annotation]
    if dataclasses.is_dataclass(annotation) or annotation is typing.Any:
        return {"object"} if annotation is not typing.Any else set()
    return set()


def _schema_types(node: dict, root: dict) -> set[str] | None:
    node = _resolve(node, root)
    if "type" in node:
        declared = node["type"]
        return set(declared if isinstance(declared, list) else [declared])
    if "oneOf" in node:
        found = [_schema_types(branch, root) for branch in node["oneOf"]]
        return None if any(f is None for f in found) else set().union(*found)
    return None  # const / enum: not a type statement


def _records(cls, node: dict, root: dict, path: str):
    """(path, record class, schema node) for ``cls`` and every record nested in it."""
    yield path, cls, node
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        inner = [arg for arg in _flatten(hints[field.name]) if dataclasses.is_dataclass(arg) and arg not in _READ_HOOKS]
        sub = _resolve(node["properties"][field.name], root) if field.name in node.get("properties", {}) else None
        for record in inner:
            if sub is None:
                continue
            sub_node = sub.get("items", sub) if typing.get_origin(hints[field.name]) is list else sub
            yield from _records(record, _object_branch(sub_node, root), root, f"{path}.{field.name}")


def _flatten(annotation) -> list:
    args = typing.get_args(annotation)
    return [annotation] if not args else [leaf for arg in args for leaf in _flatten(arg)]


CASES = [(AuditResult, "audit.schema.json"), (CompareResult, "compare.schema.json")]


@pytest.mark.parametrize(("cls", "name"), CASES, ids=["audit", "compare"])
def test_every_record_and_its_schema_name_the_same_properties(cls, name):
    root = _schema(name)
    checked = 0
    for path, record, node in _records(cls, root, root, "$"):
        names = {field.name for field in dataclasses.fields(record)}
        assert set(node.get("properties", {})) == names, f"{path}: schema and {record.__name__} differ"
        checked += 1
    assert checked >= (5 if cls is AuditResult else 10)


@pytest.mark.parametrize(("cls", "name"), CASES, ids=["audit", "compare"])
def test_every_field_is_written_as_the_json_type_its_schema_declares(cls, name):
    root = _schema(name)
    for path, record, node in _records(cls, root, root, "$"):
        hints = typing.get_type_hints(record)
        for field in dataclasses.fields(record):
            declared = _schema_types(node["properties"][field.name], root)
            readable = _json_types(hints[field.name])
            if declared is None or not readable:
                continue
            written = readable - ({"null"} if field.metadata.get(_OMIT_NONE) else set())  # left out, not null
            assert written - {"integer"} <= declared, f"{path}.{field.name}: writes {written}, schema says {declared}"
            assert declared - {"integer"} <= readable | ({"number"} if "integer" in readable else set()), \
                f"{path}.{field.name}: the schema accepts {declared}, the record reads only {readable}"


@pytest.mark.parametrize(("cls", "name"), CASES, ids=["audit", "compare"])
def test_what_the_schema_requires_is_always_written(cls, name):
    root = _schema(name)
    for path, record, node in _records(cls, root, root, "$"):
        omitted = {field.name for field in dataclasses.fields(record) if field.metadata.get(_OMIT_NONE)}
        assert not set(node.get("required", [])) & omitted, f"{path}: a required key may be left out"


@pytest.mark.parametrize(("cls", "name"), CASES, ids=["audit", "compare"])
def test_every_document_the_schema_accepts_can_be_typed(cls, name):
    """A field without a default must be a key the schema requires, or a valid document could not be read."""
    root = _schema(name)
    for path, record, node in _records(cls, root, root, "$"):
        needed = {field.name for field in dataclasses.fields(record)
                  if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING}
        assert needed <= set(node.get("required", [])), f"{path}: {needed - set(node.get('required', []))}"


def test_a_result_of_the_other_kind_is_refused_in_one_line():
    from edgeaudit.errors import EdgeAuditError
    from edgeaudit.results import typed
    from tests.edgeaudit.results.factories import audit_result, compare_result

    with pytest.raises(EdgeAuditError, match="is an edgeaudit.audit result, not a comparison"):
        typed(audit_result([]), CompareResult)
    with pytest.raises(EdgeAuditError, match="is an edgeaudit.compare result, not an audit"):
        typed(compare_result([]).to_json(), AuditResult)


def test_thresholds_this_version_does_not_know_are_ignored_on_reading():
    from tests.edgeaudit.results.factories import audit_result

    document = audit_result([]).to_json()
    document["thresholds"] = {**document["thresholds"], "min_effect": 0.07, "a_later_threshold": 3}
    assert AuditResult.from_json(document).thresholds.min_effect == 0.07
