"""Result documents against their JSON Schemas: real audits pass, broken ones fail naming the JSON path."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from edgeaudit.errors import EdgeAuditError
from edgeaudit.report import load_result, validate_result
from edgeaudit.report.schema import RESULT_SCHEMAS, result_schema
from tests.edgeaudit.report.conftest import full_compare, minimal_compare


@pytest.mark.parametrize("name", sorted(RESULT_SCHEMAS))
def test_schemas_are_valid_draft_2020_12(name):
    schema = result_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_audit_of_a_tiny_model_is_valid(audit_document):
    validate_result(audit_document)


def test_hand_made_compare_documents_are_valid():
    validate_result(minimal_compare())
    validate_result(full_compare())


def test_audit_provenance_says_where_and_how(audit_document):
    provenance = audit_document["provenance"]
    versions = provenance["tool_versions"]
    assert {"edgeaudit", "onnxruntime", "numpy", "scikit-learn"} <= set(versions)
    assert provenance["execution_provider"] == "CPUExecutionProvider"
    assert provenance["threads"] >= 1
    assert isinstance(provenance["cpu"]["cpu_features"], list) and "cpu_model" in provenance["cpu"]
    assert provenance["bundles"]["model"]["sha256"] == audit_document["bundle"]["sha256"]
    assert provenance["bundles"]["random_init_twin"]["variant"] == "random-init"
    assert provenance["seeds"] == {"audit": 0, "random_init_twin": 3}
    datasets = provenance["datasets"]
    assert datasets["treebank"]["corpus_sha256"] == audit_document["data"]["sha256"]
    assert datasets["treebank"]["sha256"] is None  # builtin:treebank is generated in code: no file to hash
    assert datasets["nonce"]["corpus_sha256"] != datasets["treebank"]["corpus_sha256"]
    assert datasets["norms"] == {"spec": "builtin:concepts", "sha256": datasets["norms"]["sha256"]}
    assert len(datasets["norms"]["sha256"]) == 64
    timings = provenance["timings"]
    assert {"extract", "claims", "property", "total"} <= set(timings)
    assert timings["total"] == pytest.approx(sum(v for k, v in timings.items() if k != "total"), abs=0.01)


def _problem(document) -> str:
    with pytest.raises(EdgeAuditError) as caught:
        validate_result(document)
    return caught.value.one_line()


def test_a_bad_claim_is_named_by_its_json_path(audit_document):
    broken = copy.deepcopy(audit_document)
    broken["claims"][2]["verdict"] = "probably"
    assert _problem(broken).startswith("$.claims[2].verdict: 'probably' is not one of")

    broken = copy.deepcopy(audit_document)
    del broken["claims"][1]["controls"][0]["score"]
    assert _problem(broken).startswith("$.claims[1].controls[0]: 'score' is missing")

    broken = copy.deepcopy(audit_document)
    broken["claims"][0]["margin_ci"] = [0.1]
    assert _problem(broken).startswith("$.claims[0].margin_ci: [0.1] is too short")


def test_missing_sections_and_wrong_schemas_are_named(audit_document):
    broken = copy.deepcopy(audit_document)
    del broken["provenance"]
    assert _problem(broken).startswith("$: 'provenance' is missing")
    assert _problem({**audit_document, "schema_version": 2}).startswith("$.schema_version: 2 is newer than this")
    assert _problem({"schema": "something.else"}).startswith("$.schema: 'something.else' is not an edgeaudit result")
    assert _problem([1, 2]).startswith("$: a result document is a JSON object")


def test_compare_problems_are_named():
    broken = full_compare()
    broken["claims"][1]["survival"] = "wobbles"
    assert _problem(broken).startswith("$.claims[1].survival: 'wobbles' is not one of")
    broken = minimal_compare()
    del broken["summary"]["flips"]
    assert _problem(broken).startswith("$.summary: 'flips' is missing")
    broken = full_compare()
    broken["numeric_drift"]["layers"][0]["sqnr_db"] = "high"
    assert _problem(broken).startswith("$.numeric_drift.layers[0].sqnr_db: 'high' is not of type")


def test_load_result_names_the_file(tmp_path):
    path = tmp_path / "audit.json"
    with pytest.raises(EdgeAuditError, match="audit.json: no such file"):
        load_result(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(EdgeAuditError, match=r"audit.json: line 1: not valid JSON"):
        load_result(path)
    path.write_text(json.dumps({"schema": "edgeaudit.compare", "schema_version": 1}), encoding="utf-8")
    with pytest.raises(EdgeAuditError, match=r"audit.json: \$: 'summary' is missing"):
        load_result(path)


def test_a_newer_schema_version_is_named_as_such():
    import pytest as _pytest

    from edgeaudit.errors import EdgeAuditError
    from edgeaudit.report.schema import validate_result

    with _pytest.raises(EdgeAuditError, match=r"\$.schema_version: 7 is newer than this edgeaudit reads \(1\)"):
        validate_result({"schema": "edgeaudit.audit", "schema_version": 7})
    with _pytest.raises(EdgeAuditError, match=r"\$.schema_version: 'one' is not a schema version"):
        validate_result({"schema": "edgeaudit.compare", "schema_version": "one"})
