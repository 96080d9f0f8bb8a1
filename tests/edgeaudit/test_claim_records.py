"""A claim in audit.json is ``verdict.Claim`` written out: typed again on reading, and its schema is checked against
the dataclass (not maintained beside it by hand). Every claim of real audits round-trips through it in
``tests/edgeaudit/audit/test_plugins.py``."""

from __future__ import annotations

import json
import math
from importlib import resources

from edgeaudit.verdict import Claim, ControlScore


def _claim_schema() -> dict:
    schema = json.loads(resources.files("edgeaudit.schemas").joinpath("audit.schema.json").read_text(encoding="utf-8"))
    return schema["$defs"]["claim"]


def test_the_schema_describes_exactly_what_a_claim_writes():
    claim = Claim("x:1", "attention-head", "text", "accuracy", 0.5, 40, [ControlScore("c", 0.1)])
    written = claim.to_dict()
    schema = _claim_schema()
    assert set(schema["properties"]) == set(written)
    assert set(schema["required"]) <= set(written)
    control = schema["properties"]["controls"]["items"]
    assert set(control["properties"]) == set(written["controls"][0]) == set(control["required"])


def test_a_score_written_as_null_reads_back_as_not_a_number():
    claim = Claim("x:1", "attention-head", "text", "accuracy", math.nan, 0, [])
    again = Claim.from_dict(json.loads(json.dumps(claim.to_dict())))
    assert math.isnan(again.score) and again.to_dict()["score"] is None
