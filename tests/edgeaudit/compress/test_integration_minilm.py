"""The real all-MiniLM-L6-v2 (86 MB fp32): int8-dynamic-full reaches edge size, fp16 keeps every tap."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.compress import compress
from tests.edgeaudit.compress.conftest import SENTENCES
from tests.edgeaudit.compress.helpers import feed_for, run_taps, token_cosines

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def minilm_bundle(minilm_dir, tmp_path_factory):
    from edgeaudit.exporters import ExportOptions, export_checkpoint

    out = tmp_path_factory.mktemp("minilm") / "bundle"
    return export_checkpoint(minilm_dir, out, ExportOptions(exporter="torchscript"), log=lambda m: None)


def test_int8_dynamic_full_fits_in_30_mb(minilm_bundle, tmp_path):
    result = compress(minilm_bundle.directory, tmp_path / "int8", "int8-dynamic-full", progress=False)
    assert result.bytes_before > 80e6
    assert result.bytes_after <= 30e6
    assert result.bundle.manifest.data["variant"]["settings"]["quantized_nodes"] == {"MatMul": 36, "Gather": 3}
    assert result.check.final_output_cosine > 0.95  # measured 0.990 on the probe sentences


def test_fp16_keeps_every_tap(minilm_bundle, tmp_path):
    result = compress(minilm_bundle.directory, tmp_path / "fp16", "fp16", progress=False)
    assert result.bytes_after < 0.55 * result.bytes_before
    feed = feed_for(minilm_bundle, SENTENCES)
    ref, got = run_taps(minilm_bundle, feed), run_taps(result.bundle, feed)
    assert len(got) == 13  # attention_0..5 and hidden_state_0..6
    for name, array in got.items():
        assert array.dtype == np.float32 and array.shape == ref[name].shape, name
    mask = feed["attention_mask"].astype(bool)
    for name in minilm_bundle.manifest.hidden_state_taps:
        assert token_cosines(ref[name], got[name], mask).min() > 0.999, name
    for name in minilm_bundle.manifest.attention_taps:
        np.testing.assert_allclose(got[name], ref[name], atol=5e-3, err_msg=name)
