"""Every probe group through one seam: a shared table of generic tests over the registry, and a toy kind added as a
user would (one module, ``tests/edgeaudit/audit/toy_kind.py``, and one ``register_group`` line)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeaudit import claim_kinds
from edgeaudit.audit.options import AuditOptions, parse_probe_list
from edgeaudit.audit.plugin import ClaimPlugin, plugins
from edgeaudit.audit.run import run_audit
from edgeaudit.report.schema import validate_result
from edgeaudit.results import AuditResult, CompareResult
from edgeaudit.verdict import Claim
from tests.edgeaudit.audit import toy_kind
from tests.edgeaudit.compare.conftest import FAST

ENCODER_GROUPS = ("attention", "tree", "structural", "correspondence", "property", "toy-position")


@pytest.fixture(scope="module")
def toy_registered():
    claim_kinds.register_group(toy_kind.GROUP)  # the one registry line
    yield
    claim_kinds.unregister_group(toy_kind.GROUP.name)


def _audit(bundle, out, probes):
    return run_audit(bundle, out, AuditOptions(probes=probes, property_layers=(2,), **{**FAST, "max_sentences": 40}))


@pytest.fixture(scope="module")
def audits(toy_registered, tiny_bundle, tmp_path_factory):
    """Each family's audit with every group that applies to it, twice (in fresh folders)."""
    root = tmp_path_factory.mktemp("plugins")
    runs = {}
    for family, probes in (("bert", ENCODER_GROUPS), ("gpt2", ("attention", "decoder"))):
        runs[family] = [_audit(tiny_bundle(family), root / f"{family}-{i}", probes) for i in range(2)]
    return runs, root


def _text(document: dict) -> str:
    """The JSON text up to key order (an integer read back as a float would show)."""
    return json.dumps(document, sort_keys=True)


def _rows():
    return [*ENCODER_GROUPS, "decoder"]


def _family(group: str) -> str:
    return "gpt2" if group == "decoder" else "bert"


def _claims_of(document: dict, group: str) -> list[dict]:
    kinds = {kind.name for kind in claim_kinds.GROUPS[group].kinds}
    return [claim for claim in document["claims"] if claim["kind"] in kinds]


def test_every_registered_group_has_a_plugin_and_a_row_here(toy_registered):
    assert set(claim_kinds.GROUPS) == set(_rows())
    for plugin in plugins():
        assert isinstance(plugin, ClaimPlugin) and plugin.group in claim_kinds.GROUPS
    assert parse_probe_list("toy-position,attention") == ("toy-position", "attention")


@pytest.mark.parametrize("group", _rows())
def test_a_group_is_deterministic(audits, group):
    first, second = audits[0][_family(group)]
    table = [(c["id"], c["score"], c["verdict"], c.get("margin")) for c in _claims_of(first, group)]
    assert table == [(c["id"], c["score"], c["verdict"], c.get("margin")) for c in _claims_of(second, group)]
    if claim_kinds.GROUPS[group].kinds:
        assert table, f"{group} made no claims on the tiny {_family(group)}"


@pytest.mark.parametrize("group", _rows())
def test_a_group_round_trips_through_json_and_the_schema(audits, group):
    runs, root = audits
    document = json.loads((root / f"{_family(group)}-0" / "audit.json").read_text(encoding="utf-8"))
    assert document == json.loads(json.dumps(runs[_family(group)][0]))  # what run_audit returned, as written
    validate_result(document)  # a plugin's kind validates through the registry-widened schema
    assert _text(AuditResult.from_json(document).to_json()) == _text(document)  # typed: nothing lost or added
    for claim in _claims_of(document, group):
        assert claim["verdict"] in ("supported", "artifact", "inconclusive", "unwarranted-assumption")
        assert Claim.from_dict(claim).to_dict() == claim  # typed again on reading, nothing lost


@pytest.fixture(scope="module")
def self_comparisons(audits, tmp_path_factory):
    """Each family's audit compared with itself (one comparison serves every group's row)."""
    from edgeaudit.compare import CompareOptions, run_compare

    _, root = audits
    out = tmp_path_factory.mktemp("self-compare")
    return {family: run_compare(root / f"{family}-0", root / f"{family}-0", out / family,
                                CompareOptions(progress=False, fidelity=False)) for family in ("bert", "gpt2")}


@pytest.mark.parametrize("group", _rows())
def test_a_group_matches_and_survives_against_itself(audits, self_comparisons, group):
    from edgeaudit.compare.claims import claim_key

    mine = _claims_of(audits[0][_family(group)][0], group)
    assert len({claim_key(Claim.from_dict(claim)) for claim in mine}) == len(mine)  # one claim per matched subject
    document = self_comparisons[_family(group)]
    assert _text(CompareResult.from_json(document).to_json()) == _text(document)
    entries = [e for e in document["claims"] if e["id"] in {c["id"] for c in mine}]
    assert len(entries) == len(mine) and all(e["survival"] == "survives" for e in entries)
    if claim_kinds.GROUPS[group].load().saves_probes:
        assert all(e["applied"] is not None and e["applied"]["score"] == pytest.approx(e["reference"]["score"])
                   for e in entries)


def _sentences(seed: int, n: int = 60) -> list[int]:
    return list(np.random.default_rng(seed).integers(4, 12, size=n))


def test_the_toy_kind_finds_planted_positions():
    from edgeaudit.audit.head_claims import ClaimContext
    from edgeaudit.verdict import VerdictThresholds

    rng = np.random.default_rng(0)
    direction = rng.standard_normal(16)

    def planted(lengths):
        return [np.arange(n)[:, None] * direction + 0.01 * rng.standard_normal((n, 16)) for n in lengths]

    ctx = ClaimContext(n_sentences=120, thresholds=VerdictThresholds(), correspondence=[], replicates=200)
    claim = toy_kind.position_claim(0, planted(_sentences(1)), planted(_sentences(2)), ctx)
    assert claim.score > 0.95 and claim.verdict == "supported", claim.reason


def test_the_toy_kind_stays_near_chance_on_random_vectors():
    from edgeaudit.audit.head_claims import ClaimContext
    from edgeaudit.verdict import VerdictThresholds

    rng = np.random.default_rng(0)

    def noise(lengths):
        return [rng.standard_normal((n, 16)) for n in lengths]

    ctx = ClaimContext(n_sentences=120, thresholds=VerdictThresholds(), correspondence=[], replicates=200)
    claim = toy_kind.position_claim(0, noise(_sentences(1)), noise(_sentences(2)), ctx)
    assert claim.score < 0.3 and claim.verdict != "supported"
    assert abs(claim.score - claim.controls[0].score) < 0.1
