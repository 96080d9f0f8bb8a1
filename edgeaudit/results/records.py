"""Dataclasses to and from plain JSON: the typed result objects are read with dacite and written by one walker.

Two conventions keep a document's shape exactly as written (a round-trip test holds every result to it):

- a field declared with :func:`optional_key` is left out of the JSON when it is ``None`` and reads back as
  ``None`` when the key is absent (the writers omit such keys rather than write ``null``);
- a class with its own ``to_dict`` / ``from_dict`` (``verdict.Claim``: NaN scores written as ``null``) writes and
  reads itself; a record that does so is registered with :func:`reads_itself`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

import dacite

from edgeaudit.verdict import Claim, ControlScore, VerdictThresholds

T = TypeVar("T")

_OMIT_NONE = "edgeaudit.omit_none"

#: classes that read themselves from their JSON form (the hook is given the raw mapping)
_READ_HOOKS: dict[type, Any] = {
    Claim: Claim.from_dict,
    ControlScore: ControlScore.from_dict,
    # thresholds a newer edgeaudit adds are not this one's to apply; the ones it knows keep their meaning
    VerdictThresholds: lambda data: VerdictThresholds(**{name: value for name, value in data.items()
                                                         if name in VerdictThresholds.__dataclass_fields__}),
    float: float,  # JSON writes 1.0 as 1: an integer where a float is declared is still that float
}


def reads_itself(cls: type[T]) -> type[T]:
    """Class decorator: ``cls.from_dict`` reads it wherever it appears inside a record (``to_dict`` writes it)."""
    _READ_HOOKS[cls] = cls.from_dict
    return cls


def optional_key(default: Any = None) -> Any:
    """A field whose key the writer leaves out when there is nothing to say (``None``)."""
    return dataclasses.field(default=default, metadata={_OMIT_NONE: True})


def read_record(cls: type[T], data: Mapping[str, Any]) -> T:
    """``data`` (parsed JSON, already schema-checked) as an instance of the dataclass ``cls``."""
    return dacite.from_dict(cls, data, config=dacite.Config(type_hooks=_READ_HOOKS, check_types=True))


def to_plain(value: Any) -> Any:
    """A record (or anything inside one) as JSON-ready lists, dicts, strings and numbers."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if item is None and field.metadata.get(_OMIT_NONE):
                continue
            out[field.name] = to_plain(item)
        return out
    if isinstance(value, Mapping):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


class Record:
    """Base of the result records: ``from_json`` / ``to_json`` by the conventions above."""

    @classmethod
    def from_json(cls: type[T], data: Mapping[str, Any]) -> T:
        return read_record(cls, data)

    def to_json(self) -> dict[str, Any]:
        return to_plain(self)
