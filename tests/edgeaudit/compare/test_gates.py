"""The gate language: parsing (property-tested), TOML gate files, metrics read off a compare document."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeaudit.errors import EXIT_BAD_INPUT, EXIT_GATE_TRIPPED
from edgeaudit.gates import (
    METRICS,
    GateError,
    GatesTripped,
    collect_gates,
    enforce,
    evaluate_gates,
    load_gate_file,
    metric_values,
    parse_gate,
)
from edgeaudit.results import CompareResult
from tests.edgeaudit.results.factories import compare_result


@pytest.mark.parametrize(("text", "metric", "op", "threshold"), [
    ("flips>0", "flips", ">", 0.0),
    ("  output_cosine <  0.99 ", "output_cosine", "<", 0.99),
    ("min_sqnr_db<=20", "min_sqnr_db", "<=", 20.0),
    ("max_jsd >= .1", "max_jsd", ">=", 0.1),
    ("breaks==0", "breaks", "==", 0.0),
    ("survives != 12", "survives", "!=", 12.0),
    ("max_score_drop>1e-3", "max_score_drop", ">", 1e-3),
    ("uuas_drop > -0.5", "uuas_drop", ">", -0.5),
])
def test_parse_valid_gates(text, metric, op, threshold):
    gate = parse_gate(text)
    assert (gate.metric, gate.op, gate.threshold) == (metric, op, threshold)
    assert gate.expression == " ".join(text.split())


@pytest.mark.parametrize("text", ["", "flips", "flips>", ">0", "flips > zero", "flips => 0", "flips>0 and breaks>0",
                                  "flips>>0", "1 < flips", "flips>0;", "flips > 1e999", "flips=0"])
def test_malformed_gates_name_the_expression_and_the_form(text):
    with pytest.raises(GateError) as caught:
        parse_gate(text)
    message = caught.value.one_line()
    assert "METRIC OP NUMBER" in message or "finite" in message
    assert "\n" not in message and caught.value.exit_code == EXIT_BAD_INPUT


def test_unknown_metric_suggests_the_closest():
    with pytest.raises(GateError, match=r"unknown metric 'flip'.*did you mean 'flips'"):
        parse_gate("flip>0")
    with pytest.raises(GateError, match=r"did you mean 'output_cosine'"):
        parse_gate("output_cosin < 0.9")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_random_strings_only_ever_raise_gate_error(text):
    try:
        gate = parse_gate(text)
    except GateError as error:
        assert "\n" not in error.one_line()
    else:
        assert gate.metric in METRICS and math.isfinite(gate.threshold)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(METRICS)), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
       st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6), st.text(" \t", max_size=3))
def test_generated_valid_gates_round_trip(metric, op, number, space):
    gate = parse_gate(f"{space}{metric}{space}{op}{space}{number!r}{space}")
    assert (gate.metric, gate.op, gate.threshold) == (metric, op, number)


def test_gate_file(tmp_path):
    path = tmp_path / "gates.toml"
    path.write_text('# CI gates\nfail_on = ["flips>0", "output_cosine < 0.99"]\n')
    assert [g.expression for g in load_gate_file(path)] == ["flips>0", "output_cosine < 0.99"]
    both = collect_gates(["flips>0", "breaks>0"], path)  # duplicates dropped, --fail-on first
    assert [g.expression for g in both] == ["flips>0", "breaks>0", "output_cosine < 0.99"]


@pytest.mark.parametrize(("content", "pattern"), [
    ('fail_on = ["flips>0",\nbroken', r"gates\.toml: invalid TOML: .*line 2"),
    ('fail_on = "flips>0"\nfail_on = "breaks>0"\n', r"gates\.toml: invalid TOML"),
    ('fail_on = 3\n', r"fail_on must be a list of strings"),
    ('fail_ob = ["flips>0"]\n', r"unknown key 'fail_ob'.*did you mean 'fail_on'"),
    ('fail_on = ["flops>0"]\n', r"gates\.toml: fail_on\[0\]: unknown metric 'flops'.*did you mean 'flips'"),
    ('fail_on = [1]\n', r"fail_on\[0\]: gate 1 is not a string"),
    ('fail_on = []\n', r"gates\.toml: defines no gate.*drop --gates"),
    ('# gates to come\n', r"gates\.toml: defines no gate \(no fail_on key\)"),
    ('', r"gates\.toml: defines no gate"),
])
def test_bad_gate_files_name_file_and_problem(tmp_path, content, pattern):
    path = tmp_path / "gates.toml"
    path.write_text(content)
    with pytest.raises(GateError, match=pattern):
        load_gate_file(path)


def test_a_byte_order_mark_is_read_past(tmp_path):
    path = tmp_path / "gates.toml"
    path.write_bytes(b'\xef\xbb\xbffail_on = ["flips>0"]\r\n')  # as Notepad saves it
    assert [g.expression for g in load_gate_file(path)] == ["flips>0"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=80),
                 st.lists(st.one_of(st.text(max_size=20), st.integers(), st.sampled_from(sorted(METRICS))),
                          max_size=4).map(lambda items: f"fail_on = {items!r}".replace("'", '"').encode()),
                 st.text(max_size=60).map(lambda text: ("\ufeff" + text).encode("utf-8", "surrogatepass"))))
def test_any_gate_file_gives_gates_or_one_line_gate_error(tmp_path_factory, content):
    """Gate files are a space of inputs: whatever bytes arrive, the answer is gates or one line, never a pass by
    default (an empty list) and never another exception."""
    path = tmp_path_factory.mktemp("gates") / "gates.toml"
    path.write_bytes(content)
    try:
        gates = load_gate_file(path)
    except GateError as error:
        assert "\n" not in error.one_line() and str(path) in error.one_line()
    else:
        assert gates and all(gate.metric in METRICS for gate in gates)


def test_missing_gate_file(tmp_path):
    with pytest.raises(GateError, match="no such gate file"):
        load_gate_file(tmp_path / "absent.toml")


def _document(**drift) -> CompareResult:
    def claim(kind, ref, var):
        return {"id": f"{kind}:1", "kind": kind, "survival": "survives", "reference": side(ref), "variant": side(var)}

    def side(score):
        return {"id": "x", "score": score, "verdict": "supported"}

    return compare_result(
        [claim("attention-head", 0.8, 0.5), claim("structural-probe", 0.6, 0.55), claim("attention-tree", 0.4, 0.42)],
        summary={"flips": 2, "breaks": 1, "drifts": 3, "survives": 4},
        numeric_drift={"layers": [{"layer": i, "sqnr_db": db} for i, db in enumerate([None, 31.0, 24.5])],
                       "attention_jsd": [[0.0, 0.01], [0.2, 0.05]],
                       "output_cosine": {"mean": 0.995, "min": 0.93}, **drift},
        explanation_drift={"mean_abs_score_delta": 0.1, "output_drift": 0.0025, "explanation_to_output_ratio": 40.0})


def test_metric_values_from_a_document():
    values = {name: value for name, (value, _) in metric_values(_document()).items()}
    assert set(values) == set(METRICS)
    assert values["flips"] == 2 and values["breaks"] == 1 and values["survives"] == 4
    assert values["output_cosine"] == 0.995 and values["output_cosine_min"] == 0.93
    assert values["min_sqnr_db"] == 24.5 and values["max_jsd"] == 0.2
    assert values["uuas_drop"] == pytest.approx(0.05) and values["max_score_drop"] == pytest.approx(0.3)
    assert values["explanation_to_output_ratio"] == 40.0


def test_identical_layers_count_as_infinite_sqnr():
    document = _document(layers=[{"layer": 0, "sqnr_db": None}, {"layer": 1, "sqnr_db": None}])
    (result,) = evaluate_gates([parse_gate("min_sqnr_db < 30")], document)
    assert result.value == math.inf and result.tripped is False
    assert result.to_dict()["value"] is None and "inf" in result.to_dict()["value_note"]


def test_enforce_exit_codes_and_messages():
    document = _document()
    results = evaluate_gates(collect_gates(["flips>0", "output_cosine<0.99", "breaks>5"]), document)
    assert [r.tripped for r in results] == [True, False, False]
    with pytest.raises(GatesTripped) as caught:
        enforce(results)
    assert caught.value.exit_code == EXIT_GATE_TRIPPED
    assert caught.value.one_line() == "gate tripped: flips>0 (flips = 2)"
    enforce(evaluate_gates(collect_gates(["flips>5"]), document))  # nothing tripped: returns
    two = evaluate_gates(collect_gates(["flips>0", "max_jsd>0.1"]), document)
    with pytest.raises(GatesTripped, match=r"2 gates tripped: flips>0 \(flips = 2\); max_jsd>0.1 \(max_jsd = 0.2\)"):
        enforce(two)


def test_a_gate_on_an_uncomputed_metric_fails_loudly():
    document = _document(computed=False, note="numeric drift needs both bundles: gone")
    (result,) = evaluate_gates([parse_gate("output_cosine<0.99")], document)
    assert result.value is None and result.tripped is None and "needs both bundles" in result.note
    with pytest.raises(GateError) as caught:
        enforce([result])
    assert caught.value.exit_code == EXIT_BAD_INPUT
