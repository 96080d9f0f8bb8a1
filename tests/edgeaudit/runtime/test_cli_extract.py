"""``edgeaudit extract``: summary, extraction.json, reuse, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import shutil

import pytest
from tokenizers import Tokenizer

from edgeaudit.cli import main
from edgeaudit.runtime import ModelSession, StoredActivations

CONLLU = """# sent_id = ok-1
# text = The cat sat.
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_
3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# sent_id = long-1
{long}
# sent_id = ok-2
1\tDogs\tdog\tNOUN\tNNS\t_\t2\tnsubj\t_\t_
2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_

"""


def long_sentence(n: int = 70) -> str:
    rows = [f"{i}\tthe\tthe\tDET\tDT\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}\t_\t_"
            for i in range(1, n + 1)]
    return "\n".join(rows) + "\n"


@pytest.fixture
def treebank_file(tmp_path):
    path = tmp_path / "tiny.conllu"
    path.write_text(CONLLU.format(long=long_sentence()), encoding="utf-8")
    return path


def test_extract_writes_store_and_report_then_reuses(tiny_bundle, treebank_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    args = ["extract", str(tiny_bundle("bert")), "--data", str(treebank_file), "--out", str(out), "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "3 given, 2 extracted, 1 skipped" in printed and "long-1" in printed and "too-long" in printed
    report = json.loads((out / "extraction.json").read_text())
    assert report["summary"]["extracted"] == 2 and report["summary"]["skipped_by_kind"] == {"too-long": 1}
    assert report["data"]["sentences_read"] == 3
    assert len(report["attention_mass"]["special"]) == 2  # layers of the tiny model
    assert StoredActivations(out / "activations").sentence_ids == ["ok-1", "ok-2"]

    monkeypatch.setattr(ModelSession, "run", lambda *a, **k: pytest.fail("a reused extraction ran the model"))
    assert main(args) == 0
    assert "reused" in capsys.readouterr().out
    assert json.loads((out / "extraction.json").read_text())["attention_mass"] == report["attention_mass"]


def test_extract_prints_the_skip_line_on_stderr_and_json_on_request(tiny_bundle, treebank_file, tmp_path, capsys):
    bad_head = "# sent_id = bad\n1\tDogs\tdog\tNOUN\t_\t_\t9\tnsubj\t_\t_\n2\tbark\tbark\tVERB\t_\t_\t0\troot\t_\t_\n\n"
    treebank_file.write_text(treebank_file.read_text(encoding="utf-8") + bad_head, encoding="utf-8")
    out = tmp_path / "run"
    assert main(["extract", str(tiny_bundle("bert")), "--data", str(treebank_file), "--out", str(out), "-q",
                 "--json"]) == 0
    captured = capsys.readouterr()
    [line] = [line for line in captured.err.splitlines() if "skipped" in line]
    assert line.startswith("edgeaudit: skipped 2 of 4 sentences: ") and str(out / "extraction.json") in line
    assert "1 too-long" in line and "1 head-out-of-range" in line
    summary = json.loads(captured.out)  # stdout is JSON alone
    assert summary["extraction"]["extracted"] == 2 and summary["extraction"]["skipped_by_kind"] == {"too-long": 1}
    assert summary["data"]["reader_skipped_by_kind"] == {"head-out-of-range": 1} and summary["reused"] is False


def test_other_data_in_same_out_dir_needs_overwrite(tiny_bundle, treebank_file, tmp_path, capsys):
    out = tmp_path / "run"
    bundle = str(tiny_bundle("bert"))
    assert main(["extract", bundle, "--data", str(treebank_file), "--out", str(out), "--quiet"]) == 0
    other = tmp_path / "other.conllu"
    other.write_text(CONLLU.format(long=long_sentence(3)), encoding="utf-8")
    capsys.readouterr()
    assert main(["extract", bundle, "--data", str(other), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err and "Traceback" not in err
    assert main(["extract", bundle, "--data", str(other), "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert "3 given, 3 extracted" in capsys.readouterr().out


def test_tokenizer_larger_than_model_vocabulary_is_rejected(tiny_bundle, treebank_file, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle("bert"), bundle)
    tokenizer = Tokenizer.from_file(str(bundle / "tokenizer.json"))
    tokenizer.add_tokens([f"extra{i}" for i in range(500)])
    tokenizer.save(str(bundle / "tokenizer.json"))
    code = main(["extract", str(bundle), "--data", str(treebank_file), "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "tokenizer.json" in err and "vocab" in err
    assert not (tmp_path / "run").exists()


def test_missing_data_file_is_one_line(tiny_bundle, tmp_path, capsys):
    bundle = tiny_bundle("bert")
    capsys.readouterr()  # building the bundle may print export progress: not the command's output
    code = main(["extract", str(bundle), "--data", str(tmp_path / "nope.conllu"),
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nope.conllu" in err
