"""Extraction against hand computations on raw ONNX outputs, batching invariance and skips."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from edgeaudit.bundle import load_bundle
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime import (
    BatchOptions,
    CountingCollector,
    ModelSession,
    SessionOptions,
    SpecialTokenMass,
    StoredActivations,
    extract,
)
from tests.edgeaudit.runtime.helpers import KeepAll, assert_close, corpus_sentences


def raw_outputs(bundle, words: list[str]) -> tuple[list[int | None], dict[str, np.ndarray]]:
    """Tokenise by hand (leading space per word for byte-level BPE, <|endoftext|> first for a decoder whose
    tokenizer adds nothing) and run onnxruntime on one sentence."""
    tok = Tokenizer.from_file(str(bundle.tokenizer_path))
    tok.no_truncation()
    tok.encode_special_tokens = True
    byte_level = bundle.manifest.tokenizer["kind"] == "byte-level-bpe"
    pieces = [w if i == 0 or not byte_level else " " + w for i, w in enumerate(words)]
    enc = tok.encode(pieces, is_pretokenized=True)
    ids, owners = list(enc.ids), [None if special else w for w, special in zip(enc.word_ids, enc.special_tokens_mask,
                                                                                strict=True)]
    bos = tok.token_to_id("<|endoftext|>")
    if bundle.manifest.causal and not enc.special_tokens_mask[0] and bos is not None:  # the decoder prefix
        ids, owners = [bos, *ids], [None, *owners]
    ids = np.array([ids], dtype=np.int64)
    session = ort.InferenceSession(str(bundle.onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    return owners, dict(zip(names, values, strict=True))


def loop_pool(owners, n_words, attn, hidden):
    """Explicit loops: attention from = mean over rows, to = sum over columns; hidden = mean of subtokens."""
    tokens_of = [[t for t, w in enumerate(owners) if w == i] for i in range(n_words)]
    heads = attn.shape[0]
    words_attn = np.zeros((heads, n_words, n_words))
    for h in range(heads):
        for i in range(n_words):
            for j in range(n_words):
                words_attn[h, i, j] = np.mean([sum(attn[h, r, c] for c in tokens_of[j]) for r in tokens_of[i]])
    words_hidden = np.stack([hidden[tokens_of[i]].mean(axis=0) for i in range(n_words)])
    return words_attn, words_hidden


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
def test_word_level_equals_hand_pooling_of_raw_onnx_outputs(tiny_bundle, tmp_path, family):
    bundle = load_bundle(tiny_bundle(family))
    sentences = corpus_sentences()[:5]
    keep = KeepAll()
    extract(bundle, sentences, collectors=[keep], store_dir=tmp_path / "store", progress=False)
    store = StoredActivations(tmp_path / "store")
    for position, (sent_id, words) in enumerate(sentences):
        owners, raw = raw_outputs(bundle, words)
        got = keep.sentences[position]
        assert got.sent_id == sent_id and store.sentence_ids[position] == sent_id
        for layer in range(bundle.manifest.num_layers + 1):
            attn_layer = raw[f"attention_{min(layer, bundle.manifest.num_layers - 1)}"][0]
            want_attn, want_hidden = loop_pool(owners, len(words), attn_layer, raw[f"hidden_state_{layer}"][0])
            assert_close(store.sentence(position, layer), want_hidden.astype(np.float32))
            assert_close(got.hidden[layer], want_hidden.astype(np.float32))
            if layer < bundle.manifest.num_layers:
                assert_close(got.attention[layer], want_attn.astype(np.float32))


def run_all(bundle, sentences, batch: BatchOptions) -> dict:
    keep = KeepAll()
    extract(bundle, sentences, collectors=[keep], batch=batch, progress=False)
    return keep.sentences


@pytest.mark.parametrize("family", ["bert", "roberta", "gpt2", "llama", "qwen2"])
def test_batched_equals_one_at_a_time(tiny_bundle, family):
    bundle = load_bundle(tiny_bundle(family))
    sentences = corpus_sentences()
    batched = run_all(bundle, sentences, BatchOptions(batch_tokens=4096))
    single = run_all(bundle, sentences, BatchOptions(batch_tokens=1, max_batch_size=1))
    assert sorted(batched) == sorted(single) == list(range(len(sentences)))
    for index, one in single.items():
        many = batched[index]
        assert_close(many.attention, one.attention)
        assert_close(many.special_mass, one.special_mass)
        assert_close(many.hidden, one.hidden)


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_rows_sum_to_one_minus_special_mass(tiny_bundle, family):
    bundle = load_bundle(tiny_bundle(family))
    keep, mass = KeepAll(), SpecialTokenMass()
    extract(bundle, corpus_sentences(), collectors=[keep, mass], progress=False)
    for sentence in keep.sentences.values():
        np.testing.assert_allclose(sentence.attention.sum(-1) + sentence.special_mass, 1.0, atol=1e-5)
    result = mass.result()
    assert result.special.shape == (bundle.manifest.num_layers, bundle.manifest.num_heads)
    assert result.rows == sum(len(words) for _, words in corpus_sentences())
    assert np.all(result.special > 0)  # [CLS]/[SEP] resp. <s> receive some attention
    assert set(result.to_dict()) == {"rows", "special", "first_word"}


def test_decoder_gets_a_bos_like_prefix_that_takes_the_sink(tiny_bundle):
    mass = SpecialTokenMass()
    summary = extract(load_bundle(tiny_bundle("gpt2")), corpus_sentences(), collectors=[mass], progress=False)
    assert summary.settings["prefix_token"] == "<|endoftext|>"
    assert np.all(mass.result().special > 0)  # every head of a causal model sees the prefix from every word


def test_manifest_prefix_null_keeps_the_first_word_first(tiny_bundle, tmp_path):
    import json
    import shutil

    bundle_dir = shutil.copytree(tiny_bundle("gpt2"), tmp_path / "bundle")
    manifest = json.loads((bundle_dir / "edgeaudit.json").read_text())
    manifest["tokenizer"]["prefix"] = None
    (bundle_dir / "edgeaudit.json").write_text(json.dumps(manifest))
    mass = SpecialTokenMass()
    summary = extract(load_bundle(bundle_dir), corpus_sentences(), collectors=[mass], progress=False)
    assert summary.settings["prefix_token"] is None
    assert np.all(mass.result().special == 0)
    assert np.all(mass.result().first_word > 0)


def test_manifest_prefix_must_be_a_special_token(tiny_bundle, tmp_path):
    import json
    import shutil

    from edgeaudit.errors import BundleError

    bundle_dir = shutil.copytree(tiny_bundle("gpt2"), tmp_path / "bundle")
    manifest = json.loads((bundle_dir / "edgeaudit.json").read_text())
    manifest["tokenizer"]["prefix"] = "<nope>"
    (bundle_dir / "edgeaudit.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="tokenizer.prefix '<nope>'"):
        extract(load_bundle(bundle_dir), corpus_sentences()[:2], progress=False)


def test_too_long_sentences_are_skipped_with_ids(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle("bert"))  # max_length 64
    sentences = corpus_sentences()[:3] + [("long-1", ["the"] * 70), ("empty-1", [])] + corpus_sentences()[3:5]
    counter = CountingCollector()
    summary = extract(bundle, sentences, collectors=[counter], store_dir=tmp_path / "s", progress=False)
    assert [(s.sent_id, s.kind) for s in summary.skipped] == [("long-1", "too-long"), ("empty-1", "empty")]
    assert summary.extracted + len(summary.skipped) == summary.sentences == len(sentences)
    assert counter.result()["sentences"] == summary.extracted == 5
    store = StoredActivations(tmp_path / "s")
    assert "long-1" not in store.sentence_ids and len(store.sentence_ids) == 5
    assert {s["sent_id"] for s in store.skipped} == {"long-1", "empty-1"}
    assert summary.to_dict()["skipped_by_kind"] == {"too-long": 1, "empty": 1}
    assert "too-long" in summary.describe()


def test_only_requested_outputs_are_fetched(tiny_bundle, monkeypatch):
    fetched: list[list[str]] = []
    original = ModelSession.run

    def spy(self, ids, mask, outputs):
        fetched.append(list(outputs))
        return original(self, ids, mask, outputs)

    monkeypatch.setattr(ModelSession, "run", spy)
    bundle = load_bundle(tiny_bundle("bert"))
    extract(bundle, corpus_sentences(), collectors=[CountingCollector()], progress=False)
    assert fetched and all(names == ["hidden_state_0"] for names in fetched)
    fetched.clear()
    extract(bundle, corpus_sentences(), collectors=[SpecialTokenMass()], progress=False)
    assert all(names == bundle.manifest.attention_taps for names in fetched)


def test_session_settings(tiny_bundle):
    session = ModelSession(load_bundle(tiny_bundle("bert")), SessionOptions(threads=2, optimization="basic"))
    options = session._session.get_session_options()
    assert options.intra_op_num_threads == 2 and options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    with pytest.raises(EdgeAuditError, match="--threads"):
        SessionOptions(threads=0)


def test_extra_inputs_are_built_from_the_mask():
    session = ModelSession.__new__(ModelSession)
    session.inputs = ["input_ids", "attention_mask", "token_type_ids", "position_ids"]
    ids = np.array([[5, 6, 7], [8, 9, 0]])
    mask = np.array([[1, 1, 1], [1, 1, 0]])
    feeds = session.feeds(ids, mask)
    assert feeds["token_type_ids"].tolist() == [[0, 0, 0], [0, 0, 0]]
    assert feeds["position_ids"].tolist() == [[0, 1, 2], [0, 1, 1]]
    assert all(v.dtype == np.int64 for v in feeds.values())


def test_pooling_is_validated_and_quiet_without_tty(tiny_bundle, capsys):
    bundle = load_bundle(tiny_bundle("bert"))
    with pytest.raises(EdgeAuditError, match="--pooling"):
        extract(bundle, corpus_sentences(), pooling="max", progress=False)
    summary = extract(bundle, corpus_sentences(), pooling="last", progress=True)  # stderr is not a TTY here
    assert summary.extracted == len(corpus_sentences())
    assert capsys.readouterr().err == ""


def test_duplicate_ids_are_refused(tiny_bundle):
    with pytest.raises(ValueError, match="twice"):
        extract(load_bundle(tiny_bundle("bert")), [("a", ["x"]), ("a", ["y"])], progress=False)


def test_overlapped_forward_gives_the_same_store_and_runs_beside_the_pooling(tiny_bundle, tmp_path, monkeypatch):
    """With overlap the next batch's forward runs on a helper thread while this thread pools; the store and what
    the collectors see must not change (padding never reaches a real position, so the smaller batches agree)."""
    import threading

    bundle = load_bundle(tiny_bundle("bert"))
    sentences = corpus_sentences()
    threads = set()
    original = ModelSession.run

    def recording(self, ids, mask, names):
        threads.add(threading.current_thread().name)
        return original(self, ids, mask, names)

    monkeypatch.setattr(ModelSession, "run", recording)
    kept = {}
    for overlap in (False, True):
        keep = KeepAll()
        extract(bundle, sentences, collectors=[keep], store_dir=tmp_path / str(overlap), progress=False,
                batch=BatchOptions(batch_tokens=64, overlap=overlap))
        kept[overlap] = keep.sentences
    assert any(name.startswith("edgeaudit-forward") for name in threads)
    assert threading.main_thread().name in threads  # overlap=False ran on the caller's thread
    assert sorted(kept[True]) == sorted(kept[False])
    for index, plain in kept[False].items():
        assert_close(kept[True][index].attention, plain.attention)
        assert_close(kept[True][index].hidden, plain.hidden)
    a, b = StoredActivations(tmp_path / "False"), StoredActivations(tmp_path / "True")
    for layer in range(a.num_layers):
        assert_close(b.layer(layer), a.layer(layer))
