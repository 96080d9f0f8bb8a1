"""B8's arithmetic: log-log slopes of stage times between two corpus sizes."""

from __future__ import annotations

import pytest

from benchmarks.scaling import per_layer, slopes


def _run(sentences: int, seconds: float, timings: dict[str, float], claims: int = 10) -> dict:
    return {"sentences": sentences, "seconds": seconds, "timings": {**timings, "total": seconds}, "layers": 6,
            "claims": claims}


def test_linear_stage_has_slope_one_fixed_stage_below_and_quadratic_two():
    small = _run(250, 40.0, {"extract": 2.0, "property": 30.0, "trees": 1.0, "load": 0.01})
    large = _run(2000, 60.0, {"extract": 16.0, "property": 30.0, "trees": 64.0, "load": 0.02})
    found = slopes(small, large)
    assert found["extract"] == pytest.approx(1.0)
    assert found["property"] == pytest.approx(0.0)
    assert found["trees"] == pytest.approx(2.0)
    assert "load" not in found and "total" not in found  # noise-sized stages and the total are left out
    assert 0 < found["wall"] < 1


def test_claims_stage_is_also_given_per_claim():
    # four times the claims, each bootstrapped over eight times the instances: 32x the time, linear per claim
    found = slopes(_run(250, 10.0, {"claims": 1.0}, claims=10), _run(2000, 20.0, {"claims": 32.0}, claims=40))
    assert found["claims"] == pytest.approx(5 / 3, abs=1e-3)  # log 32 / log 8
    assert found["claims_per_claim"] == pytest.approx(1.0, abs=1e-3)


def test_per_layer_divides_each_stage_by_depth():
    assert per_layer(_run(250, 12.0, {"structural": 30.0})) == {"structural": 5.0}
