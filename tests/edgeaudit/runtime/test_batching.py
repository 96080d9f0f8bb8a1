"""Length buckets: every sentence once, budgets respected, right padding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime.batching import MIN_SEQUENCE, BatchOptions, pad_right, plan_batches


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 80), min_size=1, max_size=60), st.integers(1, 400), st.integers(1, 16))
def test_batches_cover_every_sentence_once_within_budget(lengths, budget, max_size):
    batches = plan_batches(lengths, BatchOptions(batch_tokens=budget, max_batch_size=max_size))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    for members in batches:
        width = max(MIN_SEQUENCE, max(lengths[m] for m in members))
        assert len(members) <= max_size
        assert len(members) == 1 or len(members) * width <= budget
    widths = [max(lengths[m] for m in members) for members in batches]
    assert widths == sorted(widths, reverse=True)  # bucketed: longest first


def test_attention_cap_limits_batch_size():
    lengths = [100] * 50
    opts = BatchOptions(batch_tokens=10**6, max_batch_size=1000, attention_mb=1.0)
    batches = plan_batches(lengths, opts, attention_floats_per_seq2=12)
    assert max(len(b) for b in batches) == int(2**20 // (4 * 100 * 100 * 12))


def test_pad_right_puts_real_tokens_first():
    ids, mask = pad_right([np.array([5, 6, 7]), np.array([8])], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, mask = pad_right([np.array([9])], pad_id=3)  # dynamo graphs need at least two positions
    assert ids.tolist() == [[9, 3]] and mask.tolist() == [[1, 0]]


def test_bad_options_are_user_errors():
    with pytest.raises(EdgeAuditError, match="--batch-tokens"):
        BatchOptions(batch_tokens=0)
