"""Real data: the EWT dev treebank through the real all-MiniLM-L6-v2 bundle (skipped when absent)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgeaudit.runtime import BatchOptions, SpecialTokenMass, StoredActivations, extract

pytestmark = pytest.mark.integration

EWT_DEV_SENTENCES = 2001


@pytest.fixture(scope="session")
def minilm_bundle(minilm_dir, tmp_path_factory):
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    return export_checkpoint(minilm_dir, tmp_path_factory.mktemp("minilm") / "bundle",
                             ExportOptions(exporter="torchscript"), log=lambda m: None)


@pytest.fixture(scope="session")
def ewt_dev(shared_data):
    from edgeaudit.data import load_treebank

    files = sorted((shared_data / "ud_english_ewt").glob("*dev*.conllu"))
    if not files:
        pytest.skip(f"no *dev*.conllu under {shared_data / 'ud_english_ewt'}")
    return load_treebank(files[0])


def test_every_ewt_dev_sentence_is_extracted_or_skipped_with_reason(ewt_dev, minilm_bundle, tmp_path):
    mass = SpecialTokenMass()
    began = time.perf_counter()
    summary = extract(minilm_bundle, ewt_dev.sentences, collectors=[mass], store_dir=tmp_path / "store",
                      batch=BatchOptions(batch_tokens=8192), progress=False)
    seconds = time.perf_counter() - began
    assert summary.complete
    assert summary.extracted + len(summary.skipped) + len(ewt_dev.skipped) == EWT_DEV_SENTENCES
    assert all(skip.sent_id and skip.reason for skip in summary.skipped)
    assert all(skip.reason for skip in ewt_dev.skipped)
    store = StoredActivations(tmp_path / "store")
    assert len(store.sentence_ids) == summary.extracted
    assert store.layer(6).shape == (summary.words, 384) and np.isfinite(store.layer(6)).all()
    assert summary.words == sum(len(s.words) for s in ewt_dev.sentences if s.sent_id in set(store.sentence_ids))
    result = mass.result()
    assert result.special.shape == (6, 12) and 0 < result.special.mean() < 1
    print(f"\nEWT dev: {summary.extracted} sentences in {seconds:.1f} s "
          f"({summary.extracted / seconds:.1f} sentences/s), skipped {summary.skipped_by_kind()}")
