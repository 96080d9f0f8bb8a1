"""Formatting rules of the report views."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("value, threshold, shown", [(0.999985, 0.99999, "0.999985"), (0.99998, 0.99999, "0.99998"),
                                                     (1.0, 0.99999, "1.0000"), (0.5, 0.99, "0.5000"),
                                                     (0.99999, 0.99999, "0.99999")])
def test_a_gate_value_never_rounds_across_its_threshold(value, threshold, shown):
    from edgeaudit.report.views import fmt_gate_value

    assert fmt_gate_value(value, threshold) == shown


def test_the_cli_gate_line_keeps_the_relation_too():
    from edgeaudit.gates import GateResult, parse_gate

    result = GateResult(parse_gate("output_cosine<0.9999999"), 0.99999985, True)
    assert "= 0.99999985)" in result.describe()
