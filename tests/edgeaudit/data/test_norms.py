"""Feature norms reader: long and wide layouts, senses, duplicates, and every error naming file:line."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.data import read_norms, split_sense
from edgeaudit.data.words import normalise_word, sense_label
from edgeaudit.errors import DataError

MCRAE_LIKE = """\
Concept,Feature,WB_Label,Prod_Freq
bat_(animal),has_wings,external_component,20
bat_(animal),is_black,external_surface_property,9
bat_(baseball),made_of_wood,made_of,22
dog,has_fur,external_component,18
dog,is_black,external_surface_property,5
"""

BUCHANAN_LIKE = '"cue","lemma","n"\n"apple","red",12\n"apple","null",1\n"zebra","stripe",20\n'

BRYSBAERT_LIKE = (
    "Word\tBigram\tConc.M\tConc.SD\tDom_Pos\r\n"
    "null\t0\t1.79\t0.98\t0\r\n"
    "apple\t0\t5.00\t0.00\tNoun\r\n"
    "ID card\t1\t4.50\t0.80\tNoun\r\n"
)


def test_long_layout_mcrae_columns(write_file):
    path = write_file("mcrae.csv", MCRAE_LIKE)
    norms = read_norms(path)
    assert norms.names == ["bat_(animal)", "bat_(baseball)", "dog"]
    assert norms.concepts == ["bat", "bat", "dog"] and norms.senses == ["animal", "baseball", None]
    assert norms.labels == ["bat (animal)", "bat (baseball)", "dog"]
    assert norms.features == ["has_wings", "is_black", "made_of_wood", "has_fur"]
    np.testing.assert_array_equal(norms.matrix, [[20, 9, 0, 0], [0, 0, 22, 0], [0, 5, 0, 18]])  # [concept, feature]
    assert norms.ambiguous_words() == {"bat": ["animal", "baseball"]}
    assert any("bat (animal | baseball)" in note for note in norms.notes)
    assert norms.index("bat", "baseball") == 1 and norms.index("dog") == 2
    assert norms.source == str(path)


def test_long_layout_buchanan_columns_keep_the_word_null(write_file):
    norms = read_norms(write_file("buchanan.csv", BUCHANAN_LIKE))
    assert norms.concepts == ["apple", "zebra"] and norms.features == ["red", "null", "stripe"]
    np.testing.assert_array_equal(norms.matrix, [[12, 1, 0], [0, 0, 20]])


def test_wide_layout_tab_crlf_null_word_and_auto_numeric_columns(write_file):
    path = write_file("brysbaert.txt", BRYSBAERT_LIKE)
    norms = read_norms(path)
    assert norms.concepts == ["null", "apple", "id card"] and norms.names[2] == "ID card"
    assert norms.features == ["Bigram", "Conc.M", "Conc.SD"]
    assert norms.matrix[0].tolist() == [0.0, 1.79, 0.98]
    assert any("'Dom_Pos' left out: 'Noun' on line 3" in note for note in norms.notes)


def test_wide_layout_explicit_value_columns(write_file):
    norms = read_norms(write_file("b.txt", BRYSBAERT_LIKE), value_columns=["Conc.M"])
    assert norms.features == ["Conc.M"] and norms.matrix[:, 0].tolist() == [1.79, 5.0, 4.5]


def test_wide_non_numeric_value_names_file_line_and_column(write_file):
    path = write_file("b.txt", BRYSBAERT_LIKE)
    with pytest.raises(DataError, match=rf"^{path}:3: column 'Dom_Pos' is 'Noun' for 'apple', not a number"):
        read_norms(path, value_columns=["Conc.M", "Dom_Pos"])


def test_long_non_numeric_value_names_file_and_line(write_file):
    path = write_file("m.csv", MCRAE_LIKE.replace("dog,has_fur,external_component,18", "dog,has_fur,x,lots"))
    with pytest.raises(DataError, match=rf"^{path}:5: Prod_Freq is 'lots', which is not a finite number"):
        read_norms(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_non_finite_values_are_rejected(write_file, value):
    path = write_file("m.csv", f"concept,feature,value\ndog,has_fur,{value}\n")
    with pytest.raises(DataError, match=rf"^{path}:2: value is '{value}'"):
        read_norms(path)


def test_missing_named_column_lists_the_header(write_file):
    path = write_file("m.csv", MCRAE_LIKE)
    with pytest.raises(DataError, match=rf"^{path}:1: no value column 'Freq'; the header has 'Concept', 'Feature'"):
        read_norms(path, value_column="Freq")


def test_long_layout_without_a_concept_column(write_file):
    path = write_file("m.csv", "thing,feature,n\ndog,has_fur,3\n")
    with pytest.raises(DataError, match=rf"^{path}:1: cannot find the concept column"):
        read_norms(path, layout="long")
    norms = read_norms(path, concept_column="thing")
    assert norms.concepts == ["dog"] and norms.matrix.tolist() == [[3.0]]


def test_long_layout_without_value_column_counts_presence(write_file):
    norms = read_norms(write_file("m.csv", "concept,feature\ndog,has_fur\ndog,barks\ncat,has_fur\n"))
    np.testing.assert_array_equal(norms.matrix, [[1, 1], [1, 0]])
    assert any("no value column" in note for note in norms.notes)


def test_duplicate_concept_rows_in_wide_layout_name_both_lines(write_file):
    path = write_file("w.csv", "word,size\ndog,3\ncat,2\ndog,4\n")
    with pytest.raises(DataError, match=rf"^{path}:4: concept 'dog' appears again \(first on line 2\)"):
        read_norms(path)


@pytest.mark.parametrize("policy, expected", [("max", 20), ("sum", 29), ("first", 20)])
def test_repeated_concept_feature_pairs_are_combined_and_reported(write_file, policy, expected):
    path = write_file("m.csv", MCRAE_LIKE + "bat_(animal),has_wings,external_component,9\n")
    norms = read_norms(path, duplicate_pairs=policy)
    assert norms.matrix[0, 0] == expected
    assert any("bat_(animal)/has_wings (lines 2 and 7)" in note for note in norms.notes)


def test_repeated_pairs_can_be_an_error(write_file):
    path = write_file("m.csv", MCRAE_LIKE + "dog,has_fur,x,3\n")
    with pytest.raises(DataError, match=rf"^{path}:7: concept 'dog' lists feature 'has_fur' again \(first on line 5\)"):
        read_norms(path, duplicate_pairs="error")


def test_concept_without_features_is_skipped_with_a_count(write_file):
    path = write_file("w.csv", "word,a,b\ndog,1,0\nrock,0,0\nghost,,\n")
    norms = read_norms(path)
    assert norms.concepts == ["dog"]
    assert [str(skip) for skip in norms.skipped] == [
        f"{path}:3: concept 'rock' has no features (every value is zero or missing)",
        f"{path}:4: concept 'ghost' has no features (every value is zero or missing)",
    ]
    assert norms.summary()["skipped_by_kind"] == {"no-features": 2}
    assert any("2 empty cells" in note for note in norms.notes)


def test_empty_cells_in_wide_layout_become_nan(write_file):
    norms = read_norms(write_file("w.csv", "word,a,b\ndog,1,\ncat,,2\n"))
    assert np.isnan(norms.matrix[0, 1]) and norms.matrix[1, 1] == 2


@pytest.mark.parametrize(
    "policy, concepts, skipped",
    [("keep", ["bat", "bat", "dog"], []), ("first", ["bat", "dog"], ["bat_(baseball)"]),
     ("drop", ["dog"], ["bat_(animal)", "bat_(baseball)"])],
)  # fmt: skip
def test_duplicate_word_policies(write_file, policy, concepts, skipped):
    path = write_file("m.csv", MCRAE_LIKE)
    norms = read_norms(path, duplicates=policy)
    assert norms.concepts == concepts
    assert [skip.item for skip in norms.skipped] == skipped
    assert all(skip.kind == "duplicate-word" and str(skip).startswith(f"{path}:") for skip in norms.skipped)
    assert norms.matrix.shape == (len(concepts), 4)


def test_duplicate_word_policy_error_names_the_second_line(write_file):
    path = write_file("m.csv", MCRAE_LIKE)
    with pytest.raises(DataError, match=rf"^{path}:4: concept 'bat_\(baseball\)' has the same word 'bat'"):
        read_norms(path, duplicates="error")


def test_case_variants_are_duplicate_words_too(write_file):
    norms = read_norms(write_file("w.csv", "word,a\nTurkey,1\nturkey,2\n"))
    assert norms.concepts == ["turkey", "turkey"] and norms.names == ["Turkey", "turkey"]
    assert norms.ambiguous_words() == {"turkey": [None, None]}


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiter_is_detected(write_file, delimiter):
    text = delimiter.join(["concept", "feature", "n"]) + "\n" + delimiter.join(["dog", "barks", "3"]) + "\n"
    assert read_norms(write_file("d.txt", text)).matrix.tolist() == [[3.0]]


def test_delimiter_can_be_given(write_file):
    norms = read_norms(write_file("d.txt", "concept|feature|n\ndog|barks|3\n"), delimiter="|")
    assert norms.features == ["barks"]


def test_header_without_delimiter_is_an_error(write_file):
    path = write_file("d.txt", "concept\ndog\n")
    with pytest.raises(DataError, match=rf"^{path}:1: cannot tell the delimiter"):
        read_norms(path)


def test_ragged_row_names_file_and_line(write_file):
    path = write_file("r.csv", "concept,feature,n\ndog,barks,3\ncat,meows\n")
    with pytest.raises(DataError, match=rf"^{path}:3: row has 2 fields, the header has 3"):
        read_norms(path)


def test_quoted_multiline_field_keeps_line_numbers_right(write_file):
    path = write_file("q.csv", 'concept,feature,n\ndog,"barks\nloudly",3\ncat,meows,x\n')
    with pytest.raises(DataError, match=rf"^{path}:4: n is 'x'"):
        read_norms(path)


def test_empty_file_bom_and_non_utf8(write_file):
    with pytest.raises(DataError, match=r"empty.csv:1: the file is empty"):
        read_norms(write_file("empty.csv", "\n \n"))
    assert read_norms(write_file("bom.csv", "\ufeffconcept,feature,n\ndog,barks,2\n")).concepts == ["dog"]
    path = write_file("latin.csv", b"concept,feature,n\ndog,barks,2\ncaf\xe9,x,1\n")
    with pytest.raises(DataError, match=rf"^{path}:3: byte 0xe9 at byte offset 33 is not valid UTF-8"):
        read_norms(path)


def test_empty_concept_or_feature_names_the_line(write_file):
    path = write_file("e.csv", "concept,feature,n\ndog,barks,2\n,meows,1\n")
    with pytest.raises(DataError, match=rf"^{path}:3: empty concept"):
        read_norms(path)


@pytest.mark.parametrize(
    "name, word, sense",
    [("bat_(animal)", "bat", "animal"), ("bat (animal)", "bat", "animal"), ("Dog", "dog", None),
     ("fire_hydrant", "fire hydrant", None), ("board_(black_board)", "board", "black board"),
     ("  ID   card ", "id card", None), ("(x)", "(x)", None)],
)  # fmt: skip
def test_split_sense(name, word, sense):
    assert split_sense(name) == (word, sense)
    assert normalise_word(word) == word
    assert sense_label(word, sense) == (word if sense is None else f"{word} ({sense})")


@pytest.mark.parametrize("option", ["layout", "duplicates", "duplicate_pairs"])
def test_unknown_policy_names_are_rejected(write_file, option):
    with pytest.raises(DataError, match=f"unknown {option} 'fist'"):
        read_norms(write_file("m.csv", MCRAE_LIKE), **{option: "fist"})


@pytest.mark.parametrize(("magic", "what"), [(b"PK\x03\x04\x14\x00", "zip archive"), (b"\xd0\xcf\x11\xe0\xa1\xb1", "OLE2")])
def test_a_spreadsheet_is_refused_with_the_export_hint_not_an_encoding_hint(tmp_path, magic, what):
    path = tmp_path / "norms.xlsx"
    path.write_bytes(magic + b"\xff\xfe rest of the workbook")
    with pytest.raises(DataError) as info:
        read_norms(path)
    assert what in info.value.one_line() and "CSV UTF-8" in info.value.one_line()
    assert "iconv" not in info.value.one_line()
