"""Norms tables with blanks, NaN/inf words, extreme values, trailing delimiters or one category reach the
property probe as a counted skip or fail with one line — never a crash inside the probe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from edgeaudit.probes import run_property_probe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.property_stage import category_labels, load_property_data
from edgeaudit.errors import EdgeAuditError

BUILTIN = Path(__file__).resolve().parents[3] / "edgeaudit" / "data" / "builtin" / "concepts.csv"
LINES = BUILTIN.read_text(encoding="utf-8").splitlines()
HEADER, ROWS = LINES[0], LINES[1:41]  # 40 concepts: enough for 4 folds


def write(tmp_path: Path, lines: list[str], name: str = "n.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def set_cell(lines: list[str], row: int, column: int, value: str) -> list[str]:
    cells = lines[row].split(",")
    cells[column] = value
    return [*lines[:row], ",".join(cells), *lines[row + 1:]]


def probe(path: str, **extra) -> tuple[object, list[dict]]:
    """Load as the audit does and run the probe on random vectors (what matters is Y)."""
    extra.setdefault("min_feature_concepts", 1)
    data = load_property_data(AuditOptions(norms=path, folds=4, progress=False, **extra))
    norms = data.norms
    X = np.random.default_rng(0).normal(size=(len(norms.concepts), 8))
    run_property_probe(X, norms.matrix, concepts=norms.labels, categories=category_labels(data.categories), folds=4,
                       n_shuffles=2, n_resamples=20, seed=0)
    return norms, data.left_out


def test_blank_cell_leaves_its_concept_out_with_a_counted_reason(tmp_path):
    path = write(tmp_path, set_cell([HEADER, *ROWS], 3, 5, ""))
    norms, left_out = probe(path)
    name = ROWS[2].split(",")[0]
    assert name not in norms.concepts and len(norms.concepts) == len(ROWS) - 1
    assert left_out == [{"concept": name, "reason": f"1 empty value(s) in {path}"}]


def test_extreme_value_fails_in_one_line_naming_file_line_and_column(tmp_path):
    path = write(tmp_path, set_cell([HEADER, *ROWS], 3, 5, "1e308"))
    with pytest.raises(EdgeAuditError) as info:
        probe(path)
    column = HEADER.split(",")[5]
    assert f"n.csv:4: column {column!r}" in info.value.one_line() and "1e+308" in info.value.one_line()


def test_trailing_delimiter_on_every_line_is_not_a_feature(tmp_path):
    norms, _ = probe(write(tmp_path, [line + "," for line in [HEADER, *ROWS]]))
    listed = [name for j, name in enumerate(HEADER.split(",")[2:], start=2)
              if any(row.split(",")[j] == "1" for row in ROWS)]  # a feature no concept has is left out
    assert "" not in norms.features and norms.features == listed


def test_single_category_table_fails_in_one_line_before_any_model_work(tmp_path):
    words = [r.split(",")[0] for r in ROWS]
    categories = write(tmp_path, ["word,category", *[f"{w},thing" for w in words]], "cats.csv")
    with pytest.raises(EdgeAuditError) as info:
        probe(str(BUILTIN), categories=categories)
    assert info.value.one_line().startswith(
        f"{categories}: all 40 usable concepts with a category are in one category 'thing'")


def test_every_concept_blank_fails_in_one_line(tmp_path):
    lines = [HEADER] + [",".join([*r.split(",")[:2], "", *r.split(",")[3:]]) for r in ROWS]
    with pytest.raises(EdgeAuditError, match="every concept has empty values"):
        probe(write(tmp_path, lines))


def test_categories_file_matching_no_concept_is_blamed(tmp_path):
    categories = write(tmp_path, ["word,category", "zzyzx,thing", "qwert,other"], "cats.csv")
    with pytest.raises(EdgeAuditError) as info:
        probe(str(BUILTIN), categories=categories)
    assert info.value.one_line().startswith(f"{categories}: no category for any of the")


CELLS = st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e100", "1e-320", "x", " ", "0", "1"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, len(ROWS) - 1), st.integers(2, 20), CELLS), max_size=12),
       trailing=st.booleans())
def test_random_bad_cells_give_a_counted_skip_or_one_line_never_a_crash(tmp_path, edits, trailing):
    lines = [HEADER, *ROWS]
    for row, column, value in edits:
        lines = set_cell(lines, row + 1, column, value)
    if trailing:
        lines = [line + "," for line in lines]
    path = write(tmp_path, lines)
    try:
        norms, left_out = probe(path)
    except EdgeAuditError as error:
        assert "\n" not in error.one_line() and error.one_line()
        return
    assert np.isfinite(norms.matrix).all()
    assert len(norms.concepts) + len(left_out) == len(ROWS)
