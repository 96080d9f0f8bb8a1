"""Probe tests run single-threaded BLAS: their matrices are tiny, and on a busy machine OpenBLAS threads
spinning for work slow small products down by 10-100x (measured: 8 ms vs 0.08 ms for a 1500x40 @ 40x16)."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas():
    with threadpool_limits(limits=1, user_api="blas"):
        yield
