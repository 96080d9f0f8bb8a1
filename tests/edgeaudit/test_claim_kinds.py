"""One registry of claim kinds: the schemas, the probe groups and a decoder comparison all agree with it."""

from __future__ import annotations

import json
from importlib import resources

from edgeaudit import claim_kinds
from edgeaudit.audit.options import PROBE_GROUPS


def _kind_enum(schema_name: str) -> list[str]:
    schema = json.loads(resources.files("edgeaudit.schemas").joinpath(schema_name).read_text(encoding="utf-8"))
    found = []

    def walk(node):
        if isinstance(node, dict):
            kind = node.get("properties", {}).get("kind") if isinstance(node.get("properties"), dict) else None
            if isinstance(kind, dict) and "enum" in kind and claim_kinds.ATTENTION_HEAD in kind["enum"]:
                found.append(kind["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert found, f"{schema_name} lists no claim kinds"
    return found[0]


def test_both_schemas_accept_exactly_the_registered_kinds():
    for name in ("audit.schema.json", "compare.schema.json"):
        assert sorted(_kind_enum(name)) == sorted(claim_kinds.KINDS), name


def test_every_kind_comes_from_a_probe_group_and_has_a_title():
    for kind in claim_kinds.KINDS.values():
        assert kind.probe_group in PROBE_GROUPS
        assert claim_kinds.title(kind.name) == kind.title != kind.name
    assert claim_kinds.title("a-future-kind") == "a-future-kind"
    assert set(claim_kinds.tree_scored_kinds()) == {claim_kinds.ATTENTION_TREE, claim_kinds.STRUCTURAL_PROBE}


def test_a_decoder_comparison_is_a_valid_compare_document(tiny_bundle, tmp_path):
    """compare.json of a decoder with its decoder-head claims used to fail its own schema."""
    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.compare import CompareOptions, run_compare
    from edgeaudit.report.schema import validate_result
    from tests.edgeaudit.compare.conftest import FAST

    bundle = tiny_bundle("gpt2")
    options = CompareOptions(audit=AuditOptions(probes=("attention", "decoder"), **FAST), fidelity=False,
                             progress=False)
    document = run_compare(bundle, bundle, tmp_path, options)
    kinds = {claim["kind"] for claim in document["claims"]}
    assert {claim_kinds.PREVIOUS_TOKEN_HEAD, claim_kinds.INDUCTION_HEAD} <= kinds
    validate_result(json.loads((tmp_path / "compare.json").read_text(encoding="utf-8")))
