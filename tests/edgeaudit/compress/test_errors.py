"""Bad requests fail early with one line that names the problem and what to do."""

from __future__ import annotations

import pytest

from edgeaudit.compress import CompressError, compress_bundle, resolve_preset

QUIET = {"progress": False}


def test_unknown_preset_suggests_the_closest():
    with pytest.raises(CompressError, match="unknown preset 'int8-dynamc'.*did you mean 'int8-dynamic'"):
        resolve_preset("int8-dynamc")
    with pytest.raises(CompressError, match="did you mean 'fp16'"):
        resolve_preset("fp61")
    assert resolve_preset("INT8_static") == "int8-static"


def test_unknown_preset_fails_before_touching_the_output(tiny_bundle, tmp_path):
    with pytest.raises(CompressError, match="did you mean 'int4'"):
        compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int3", **QUIET)
    assert not (tmp_path / "out").exists()


def test_static_without_calibration_is_refused(tiny_bundle, tmp_path):
    with pytest.raises(CompressError, match="option --calibration is required"):
        compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int8-static", **QUIET)
    assert not (tmp_path / "out").exists()


def test_missing_calibration_file_is_named(tiny_bundle, tmp_path):
    with pytest.raises(CompressError, match=r"--calibration: .*nope\.txt: no such file"):
        compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int8-static", calibration=tmp_path / "nope.txt",
                        **QUIET)


def test_empty_calibration_file_is_refused(tiny_bundle, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(CompressError, match="holds no sentences"):
        compress_bundle(tiny_bundle("bert"), tmp_path / "out", "int8-static", calibration=empty, **QUIET)


def test_existing_non_bundle_output_needs_force(tiny_bundle, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(CompressError, match="not an edgeaudit bundle.*--overwrite"):
        compress_bundle(tiny_bundle("bert"), out, "fp16", **QUIET)
    assert (out / "notes.txt").read_text() == "mine"
    bundle = compress_bundle(tiny_bundle("bert"), out, "fp16", force=True, **QUIET)
    assert bundle.manifest.variant == "fp16" and not (out / "notes.txt").exists()


def test_existing_bundle_output_needs_force(tiny_bundle, tmp_path):
    out = tmp_path / "out"
    compress_bundle(tiny_bundle("bert"), out, "fp16", **QUIET)
    with pytest.raises(CompressError, match="already holds a bundle"):
        compress_bundle(tiny_bundle("bert"), out, "int4", **QUIET)
    assert compress_bundle(tiny_bundle("bert"), out, "int4", force=True, **QUIET).manifest.variant == "int4"


def test_output_may_not_be_the_input(tiny_bundle):
    with pytest.raises(CompressError, match="is the input bundle itself"):
        compress_bundle(tiny_bundle("bert"), tiny_bundle("bert"), "fp16", force=True, **QUIET)


def test_a_variant_is_not_compressed_again(variant, tmp_path):
    with pytest.raises(CompressError, match=r"already a compressed variant \(fp16\).*fp32 parent"):
        compress_bundle(variant("bert", "fp16").bundle.directory, tmp_path / "again", "int8-dynamic", **QUIET)


def test_not_a_bundle(tmp_path):
    from edgeaudit.errors import BundleError

    with pytest.raises(BundleError, match="no such bundle directory"):
        compress_bundle(tmp_path / "missing", tmp_path / "out", "fp16", **QUIET)


def test_a_family_name_suggests_its_presets_not_a_neighbour():
    with pytest.raises(CompressError, match="one of 'int8-dynamic', 'int8-dynamic-full', 'int8-static'"):
        resolve_preset("int8")
    with pytest.raises(CompressError, match="one of 'int4-rtn', 'int4-kquant', 'int4-hqq'"):
        resolve_preset("int4-")
