"""merge: audits from several devices/variants of one model, claim by claim."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.errors import EdgeAuditError
from edgeaudit.merge import merge
from edgeaudit.report import render_html, render_markdown, validate_result

LIGHT = AuditOptions(probes=("attention", "correspondence"), max_sentences=40, shuffles=3, bootstrap=100,
                     min_count=10, progress=False)


@pytest.fixture(scope="module")
def audits(tiny_bundle, tmp_path_factory):
    """The tiny BERT audited as fp32 and as its int8 variant (real audits, same corpus and options)."""
    from edgeaudit.audit.run import run_audit
    from edgeaudit.compress import compress_bundle

    root = tmp_path_factory.mktemp("merge")
    compress_bundle(tiny_bundle("bert"), root / "int8", "int8-dynamic", progress=False)
    run_audit(tiny_bundle("bert"), root / "fp32-audit", LIGHT)
    run_audit(root / "int8", root / "int8-audit", LIGHT)
    return root


def device_copy(root, name: str, edit) -> str:
    """The fp32 audit as another board would have written it, with ``edit`` applied to its claims."""
    document = json.loads((root / "fp32-audit" / "audit.json").read_text())
    other = copy.deepcopy(document)
    other["provenance"]["machine"] = "aarch64"
    edit(other["claims"])
    folder = root / name
    folder.mkdir(exist_ok=True)
    (folder / "audit.json").write_text(json.dumps(other))
    return str(folder)


def test_identical_audits_agree_everywhere(audits):
    result = merge([audits / "fp32-audit", audits / "fp32-audit" / "audit.json"])
    validate_result(result)
    s = result["summary"]
    assert s["claims"] == s["verdicts_agree"] > 0 and s["verdicts_differ"] == s["numbers_differ"] == 0
    assert [i["label"] for i in result["inputs"]] == ["fp32-audit (fp32, x86_64)", "fp32-audit (fp32, x86_64) #2"]


def test_a_changed_verdict_and_a_moved_score_are_found_and_named(audits):
    def edit(claims):
        claims[0]["verdict"] = "supported" if claims[0]["verdict"] != "supported" else "artifact"
        claims[1]["score"] = claims[1]["score"] + 0.01

    device = device_copy(audits, "pi5", edit)
    result = merge([audits / "fp32-audit", device], labels=["x86", "pi5"])
    rows = {tuple(r["key"]): r for r in result["claims"]}
    first, second = result["claims"][0], result["claims"][1]
    assert not first["verdicts_agree"] and second["verdicts_agree"] and second["numbers_differ"]
    assert second["score_spread"] == pytest.approx(0.01)
    assert result["summary"]["verdicts_differ"] == 1 and result["summary"]["numbers_differ"] == 1
    assert set(first["cells"]) == {"x86", "pi5"} and len(rows) == len(result["claims"])
    assert "verdict differs" in render_markdown(result) and "pi5" in render_html(result)
    # a looser tolerance hides the score difference, never the verdict
    loose = merge([audits / "fp32-audit", device], labels=["x86", "pi5"], tolerance=0.1)
    assert loose["summary"]["numbers_differ"] == 0 and loose["summary"]["verdicts_differ"] == 1


def test_claims_are_matched_by_relation_even_when_a_device_picks_another_head(audits):
    def edit(claims):
        head = next(c for c in claims if c["kind"] == "attention-head")
        head["id"] = head["id"] + "-elsewhere"  # same relation and direction, another head

    result = merge([audits / "fp32-audit", device_copy(audits, "jetson", edit)])
    assert result["summary"]["claims"] == len(json.loads((audits / "fp32-audit" / "audit.json").read_text())["claims"])
    assert result["summary"]["subjects_differ"] == 1


def test_a_variant_merges_with_its_reference(audits):
    result = merge([audits / "fp32-audit", audits / "int8-audit"])
    assert [i["variant"] for i in result["inputs"]] == ["fp32", "int8-dynamic"]
    assert result["summary"]["claims"] >= result["summary"]["verdicts_agree"]


def test_inputs_that_cannot_be_merged_are_refused_in_one_line(audits, tmp_path):
    with pytest.raises(EdgeAuditError, match="at least two"):
        merge([audits / "fp32-audit"])
    with pytest.raises(EdgeAuditError, match="2 label\\(s\\) for 3 input"):
        merge([audits / "fp32-audit"] * 3, labels=["a", "b"])
    with pytest.raises(EdgeAuditError, match="holds neither audit.json nor compare.json"):
        merge([audits / "fp32-audit", tmp_path])

    def other_corpus(claims):
        pass

    folder = device_copy(audits, "other-data", other_corpus)
    document = json.loads((audits / "other-data" / "audit.json").read_text())
    document["data"]["sha256"] = "0" * 64
    (audits / "other-data" / "audit.json").write_text(json.dumps(document))
    with pytest.raises(EdgeAuditError, match="different corpora"):
        merge([audits / "fp32-audit", folder])


def test_comparisons_merge_with_their_gates_and_never_with_audits(audits, tmp_path):
    from edgeaudit.compare import CompareOptions, run_compare
    from edgeaudit.gates import collect_gates

    options = CompareOptions(gates=tuple(collect_gates(["output_cosine<0.9"])), fidelity=False, progress=False)
    run_compare(audits / "fp32-audit", audits / "int8-audit", tmp_path / "x86", options)
    document = json.loads((tmp_path / "x86" / "compare.json").read_text())
    document["gates"][0]["tripped"] = True  # the board's int8 kernels moved the output further
    document["provenance"]["machine"] = "aarch64"
    (tmp_path / "arm").mkdir()
    (tmp_path / "arm" / "compare.json").write_text(json.dumps(document))
    result = merge([tmp_path / "x86", tmp_path / "arm"])
    validate_result(result)
    assert result["kind"] == "compare" and result["summary"]["gates_differ"] == ["output_cosine<0.9"]
    assert result["summary"]["survival_differs"] == 0
    assert result["activations"] is None and result["summary"]["activation_layers_exceeding"] is None
    assert not any("activation" in note for note in result["notes"])  # comparisons keep no store: nothing to say
    assert "TRIPPED" in render_markdown(result)
    with pytest.raises(EdgeAuditError, match="mix audits and comparisons"):
        merge([tmp_path / "x86", audits / "fp32-audit"])


# ------------------------------------------------------------------------------------- activation differences

LAYERS, HIDDEN = 5, 4
WORDS = {"s0": 3, "s1": 1, "s2": 4, "s3": 2, "s4": 5}  # five sentences of varied length


def sentence_values(seed: int = 0) -> dict[str, np.ndarray]:
    """[layer, word, hidden] per sentence, multiples of 1/8: planted differences of 2**-k stay exact in float32."""
    rng = np.random.default_rng(seed)
    return {sid: (rng.integers(-64, 64, size=(LAYERS, n, HIDDEN)) / 8).astype(np.float32) for sid, n in WORDS.items()}


def audit_copy(audits: Path, folder: Path) -> str:
    """The fp32 audit.json alone in ``folder`` (no activation store)."""
    folder.mkdir()
    (folder / "audit.json").write_text((audits / "fp32-audit" / "audit.json").read_text())
    return str(folder)


def audit_with_store(audits: Path, folder: Path, sentences: dict[str, np.ndarray], *, shard_sentences: int = 2,
                     corpus: str = "c" * 64, finish: bool = True) -> str:
    """A copy of the fp32 audit whose folder holds an activation store with exactly ``sentences``."""
    from edgeaudit.runtime.store import ActivationStore, ShardRecord, StoreKey

    target = audit_copy(audits, folder)
    first = next(iter(sentences.values()))
    store = ActivationStore.open(folder / "activations", StoreKey("b" * 64, corpus, {"pooling": "mean"}),
                                 num_layers=first.shape[0], hidden_size=first.shape[2])
    items = list(sentences.items())
    for shard, start in enumerate(range(0, len(items), shard_sentences)):
        chunk = items[start:start + shard_sentences]
        offsets = np.concatenate([[0], np.cumsum([values.shape[1] for _, values in chunk])]).tolist()
        record = ShardRecord(shard=shard, sentence_ids=[sid for sid, _ in chunk],
                             sentence_index=list(range(start, start + len(chunk))), word_offsets=offsets,
                             tokens=offsets[-1])
        store.write_shard(record, [np.concatenate([values[layer] for _, values in chunk])
                                   for layer in range(first.shape[0])])
    if finish:
        store.finish()
    return target


def stacked(sentences: dict[str, np.ndarray], layer: int) -> np.ndarray:
    return np.concatenate([values[layer] for values in sentences.values()]).astype(np.float64)


@pytest.fixture
def devices(audits, tmp_path):
    """(a function making the device's audit folder from its store's sentences, the reference sentences, the
    reference audit folder "x86" with its store)."""
    reference = sentence_values()

    def device(name: str, sentences: dict[str, np.ndarray] | None, **options) -> str:
        if sentences is None:
            return audit_copy(audits, tmp_path / name)
        return audit_with_store(audits, tmp_path / name, sentences, **options)
    return device, reference, audit_with_store(audits, tmp_path / "x86", reference)


def test_planted_activation_differences_are_found_at_their_layer(devices, monkeypatch):
    make, reference, x86 = devices
    device = {sid: values.copy() for sid, values in reference.items()}
    for values in device.values():
        values[2] += 2 ** -6  # every value of layer 2 moves by 0.015625
    device["s2"][4, 1, 3] += 0.5  # one value of layer 4
    pi = make("a76", device, shard_sentences=3)  # another shard layout
    monkeypatch.setattr("edgeaudit.merge.CHUNK_VALUES", 3 * HIDDEN)  # chunks of 3 words cross shard boundaries
    result = merge([x86, pi], labels=["x86", "a76"])
    validate_result(result)
    section = result["activations"]
    assert section["reference"] == "x86" and section["tolerance"] == 1e-4
    assert (section["num_layers"], section["hidden_size"]) == (LAYERS, HIDDEN)
    (record,) = section["inputs"]
    assert record["label"] == "a76" and record["compared_sentences"] == 5 and record["compared_words"] == 15
    layers = record["layers"]
    assert [row["layer"] for row in layers] == list(range(LAYERS))
    assert [row["max_abs_diff"] for row in layers] == [0.0, 0.0, 2 ** -6, 0.0, 0.5]
    assert [row["mean_abs_diff"] for row in layers] == [0.0, 0.0, 2 ** -6, 0.0, 0.5 / (15 * HIDDEN)]
    assert layers[2]["relative"] == pytest.approx(2 ** -6 / np.abs(stacked(reference, 2)).mean(), rel=1e-12)
    assert layers[4]["relative"] == pytest.approx(0.5 / np.abs(stacked(reference, 4)).sum(), rel=1e-12)
    assert [row["relative"] for row in layers[:2]] == [0.0, 0.0]
    assert [row["exceeds"] for row in layers] == [False, False, True, False, True]
    assert record["layers_exceeding"] == 2 and record["first_layer_exceeding"] == 2
    assert result["summary"]["activation_layers_exceeding"] == 2
    assert result["summary"]["max_activation_relative"] == max(layers[2]["relative"], layers[4]["relative"])
    assert not any("activation" in note for note in result["notes"])
    # the tolerance moves the flags, never the numbers
    loose = merge([x86, pi], labels=["x86", "a76"], activation_tolerance=0.1)
    assert [row["exceeds"] for row in loose["activations"]["inputs"][0]["layers"]] == [False] * 4 + [True]
    assert loose["activations"]["inputs"][0]["first_layer_exceeding"] == 4
    assert loose["activations"]["inputs"][0]["layers"][2]["max_abs_diff"] == 2 ** -6


def test_identical_stores_differ_nowhere(devices):
    make, reference, x86 = devices
    twin = make("a76", reference, shard_sentences=5)
    result = merge([x86, twin, x86], labels=["x86", "a76", "x86 again"])
    inputs = result["activations"]["inputs"]
    assert [record["label"] for record in inputs] == ["a76", "x86 again"]
    for record in inputs:
        assert all(row["max_abs_diff"] == row["mean_abs_diff"] == row["relative"] == 0 and not row["exceeds"]
                   for row in record["layers"])
        assert record["layers_exceeding"] == 0 and record["first_layer_exceeding"] is None
    assert result["summary"]["activation_layers_exceeding"] == 0 and result["summary"]["max_activation_relative"] == 0


def test_real_audit_stores_are_compared_layer_by_layer(audits):
    from edgeaudit.runtime.store import StoredActivations

    store = StoredActivations(audits / "fp32-audit" / "activations")
    same = merge([audits / "fp32-audit", audits / "fp32-audit"])["activations"]["inputs"][0]
    assert len(same["layers"]) == store.num_layers and same["compared_words"] == len(store.layer(0))
    assert all(row["max_abs_diff"] == 0 for row in same["layers"])
    result = merge([audits / "fp32-audit", audits / "int8-audit"], labels=["fp32", "int8"])
    validate_result(result)
    int8 = result["activations"]["inputs"][0]
    assert max(row["max_abs_diff"] for row in int8["layers"]) > 1e-4 and int8["layers_exceeding"] > 0
    assert result["summary"]["max_activation_relative"] > 0


def test_sentences_one_device_skipped_are_left_out_and_counted(devices):
    make, reference, x86 = devices
    device = {sid: values.copy() for sid, values in reference.items() if sid != "s1"}  # s1 skipped on the device
    device["s3"] = np.concatenate([device["s3"], device["s3"][:, :1]], axis=1)  # s3 split into another word count
    device["s4"][1] += 2 ** -6  # the last sentence: misaligned rows would show everywhere, not here alone
    device["extra"] = reference["s0"].copy()
    result = merge([x86, make("a76", device)], labels=["x86", "a76"])
    validate_result(result)
    record = result["activations"]["inputs"][0]
    compared = WORDS["s0"] + WORDS["s2"] + WORDS["s4"]
    assert record["compared_sentences"] == 3 and record["compared_words"] == compared
    assert [row["max_abs_diff"] for row in record["layers"]] == [0.0, 2 ** -6, 0.0, 0.0, 0.0]
    assert record["layers"][1]["mean_abs_diff"] == 2 ** -6 * WORDS["s4"] / compared
    assert ("activations of a76 vs x86: 3 sentence(s) left out (1 only in x86, 1 only in a76, 1 with different "
            "word counts)") in result["notes"]


@pytest.mark.parametrize("case, fragment", [
    ("missing", "a76 has no activation store"),
    ("incomplete", "a76's activation store is incomplete ("),
    ("hidden", "a76 stores 5 layers of 6 values per word, x86 5 layers of 4"),
    ("layers", "a76 stores 3 layers of 4 values per word, x86 5 layers of 4"),
    ("corpus", "a76's activations are of another corpus than x86's"),
    ("disjoint", "a76 and x86 have no sentence in common"),
    ("damaged", "a76 or x86: "),
])
def test_stores_that_cannot_be_compared_leave_the_section_null_and_say_why(devices, case, fragment):
    make, reference, x86 = devices
    if case == "missing":
        device = make("a76", None)
    elif case == "hidden":
        device = make("a76", {sid: np.concatenate([v, v[..., :2]], axis=2) for sid, v in reference.items()})
    elif case == "layers":
        device = make("a76", {sid: v[:3] for sid, v in reference.items()})
    elif case == "disjoint":
        device = make("a76", {f"other-{sid}": v for sid, v in reference.items()})
    elif case == "damaged":  # complete by its index, but a layer file was overwritten with another shape
        device = make("a76", reference)
        np.save(Path(device) / "activations" / "shard_00001" / "layer_03.npy", np.zeros((2, 2), np.float32))
    else:
        device = make("a76", reference, corpus="d" * 64 if case == "corpus" else "c" * 64,
                      finish=case != "incomplete")
    result = merge([x86, device], labels=["x86", "a76"])
    validate_result(result)
    assert result["activations"] is None
    assert result["summary"]["activation_layers_exceeding"] is None
    assert result["summary"]["max_activation_relative"] is None
    notes = [note for note in result["notes"] if note.startswith("activation differences skipped: ")]
    assert len(notes) == 1 and fragment in notes[0], result["notes"]
    assert result["summary"]["claims"] > 0  # the claims are merged all the same


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e-9])
def test_a_bad_activation_tolerance_is_one_clear_line(audits, value):
    with pytest.raises(EdgeAuditError, match=r"option --activation-tolerance: .* is out of range") as error:
        merge([audits / "fp32-audit", audits / "fp32-audit"], activation_tolerance=value)
    assert "\n" not in error.value.one_line() and "give a number >= 0" in error.value.one_line()


def test_the_activation_table_is_rendered_with_flagged_cells(devices):
    make, reference, x86 = devices
    device = {sid: values.copy() for sid, values in reference.items()}
    for values in device.values():
        values[3] += 2 ** -3
    result = merge([x86, make("a76", device)], labels=["x86", "a76 <pi> & co"])
    relative = f'{result["activations"]["inputs"][0]["layers"][3]["relative"]:.3g}'
    markdown = render_markdown(result)
    assert "## Activations" in markdown and "| layer | a76 <pi> & co mean \\|Δ\\| |" in markdown
    assert f"| 3 | 0.125 | {relative} | **0.125** (> tol) |" in markdown
    assert "| 2 | 0 | 0 | 0 |" in markdown and markdown.count("(> tol)") == 1
    page = render_html(result)
    assert "<h2>Activations</h2>" in page and "a76 &lt;pi&gt; &amp; co max |Δ|" in page
    assert "<pi>" not in page
    flagged = '<tr class="tripped"><td>3</td><td class=num>0.125</td>'
    assert flagged in page and page.count('<tr class="tripped">') == 1
    assert '<strong>0.125</strong> <span class="badge tripped">&gt; tol</span>' in page
    # a merge without activations renders without the section
    plain = merge([x86, make("a76-nostore", None)], labels=["x86", "a76"])
    assert "Activations" not in render_markdown(plain) and "<h2>Activations</h2>" not in render_html(plain)


def test_the_command_line_prints_a_line_per_device_and_refuses_a_bad_tolerance(devices, tmp_path, capsys):
    from edgeaudit.cli import main

    make, reference, x86 = devices
    device = {sid: values.copy() for sid, values in reference.items()}
    for values in device.values():
        values[4] += 2 ** -4
    pi = make("a76", device)
    assert main(["merge", x86, pi, "--out", str(tmp_path / "m"), "--label", "x86", "--label", "a76"]) == 0
    printed = capsys.readouterr().out
    layer4 = json.loads((tmp_path / "m" / "merge.json").read_text())["activations"]["inputs"][0]["layers"][4]
    assert (f"activations vs x86: a76 largest relative difference {layer4['relative']:.1e} at layer 4; "
            "1 of 5 layers above 0.0001") in printed
    assert main(["merge", x86, pi, "--out", str(tmp_path / "m2"), "--activation-tolerance", "nan"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "option --activation-tolerance: nan is out of range" in err[0]
