"""A graph that emits NaN/inf is refused with one line naming the tap and the sentence — never stored silently."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.bundle import load_bundle
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime import ModelSession, SpecialTokenMass, extract
from tests.edgeaudit.runtime.helpers import corpus_sentences


@pytest.fixture(scope="module")
def bundle(tiny_bundle):
    return load_bundle(tiny_bundle("bert"))


def poisoned(tap: str, value: float, sentence_row: int = 0):
    original = ModelSession.run

    def run(self, ids, mask, names):
        outputs = dict(original(self, ids, mask, names))
        if tap in outputs:
            outputs[tap] = outputs[tap].copy()
            outputs[tap][sentence_row, ..., 0, 0] = value  # a real position of the batch's first sentence
        return outputs
    return run


@pytest.mark.parametrize(("tap", "value", "word"), [("hidden_state_2", np.nan, "NaN"), ("attention_1", np.inf, "inf")])
def test_non_finite_tap_is_refused_naming_tap_and_sentence(bundle, tmp_path, monkeypatch, tap, value, word):
    monkeypatch.setattr(ModelSession, "run", poisoned(tap, value))
    sentences = corpus_sentences()
    with pytest.raises(EdgeAuditError) as info:
        extract(bundle, sentences, collectors=[SpecialTokenMass()], store_dir=tmp_path / "store", progress=False)
    line = info.value.one_line()
    assert f"tap {tap} gave {word} values for sentence 's0-" in line and "\n" not in line
    assert not (tmp_path / "store" / "index.json").exists()


def test_finite_outputs_pass_unchanged(bundle, tmp_path):
    summary = extract(bundle, corpus_sentences(), store_dir=tmp_path / "store", progress=False)
    assert summary.complete and summary.extracted == len(corpus_sentences())
