"""Edge-size corpora: one usable sentence gives an audit with stated gaps; none gives one line, never a crash."""

from __future__ import annotations

import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.run import run_audit
from edgeaudit.errors import EdgeAuditError

ONE = "# sent_id = a\n1\tDogs\tdog\tNOUN\t_\t_\t2\tnsubj\t_\t_\n2\tbark\tbark\tVERB\t_\t_\t0\troot\t_\t_\n\n"
OPTIONS = dict(probes=("attention", "tree", "structural", "correspondence"), bootstrap=50, progress=False)


def test_one_sentence_audits_with_inconclusive_claims_and_says_what_it_skipped(tiny_bundle, tmp_path):
    data = tmp_path / "one.conllu"
    data.write_text(ONE, encoding="utf-8")
    notes: list[str] = []
    document = run_audit(tiny_bundle("bert"), tmp_path / "a", AuditOptions(data=str(data), min_count=1, **OPTIONS),
                         log=notes.append)
    assert any("structural and identifiability probes not run: too few instances" in note for note in notes)
    assert "too few instances" in document["probes"]["not_estimated"]["structural"]
    assert document["claims"] and all(claim["verdict"] == "inconclusive" for claim in document["claims"])


def test_no_usable_sentence_is_one_line(tiny_bundle, tmp_path):
    words = "".join(f"{i}\tw\tw\tX\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}\t_\t_\n"
                    for i in range(1, 80))
    data = tmp_path / "long.conllu"
    data.write_text("# sent_id = long\n" + words + "\n", encoding="utf-8")
    with pytest.raises(EdgeAuditError, match="no usable sentences in .*long.conllu: 1 skipped \\(1 too-long\\)") as caught:
        run_audit(tiny_bundle("bert"), tmp_path / "b", AuditOptions(data=str(data), **OPTIONS))
    assert "\n" not in caught.value.one_line()


def test_a_twin_of_another_architecture_or_tokenizer_is_refused(tiny_bundle, tiny_twin_bundle, tmp_path):
    import json
    import shutil

    gpt2_twin = tmp_path / "gpt2-twin"
    shutil.copytree(tiny_twin_bundle("gpt2", seed=0), gpt2_twin)
    manifest = json.loads((gpt2_twin / "edgeaudit.json").read_text())
    bert = json.loads((tiny_bundle("bert") / "edgeaudit.json").read_text())
    for key in ("num_layers", "num_heads", "hidden_size"):  # same shape, so only the new checks can catch it
        manifest["model"][key] = bert["model"][key]
    (gpt2_twin / "edgeaudit.json").write_text(json.dumps(manifest))
    with pytest.raises(EdgeAuditError, match="twin's model.model_type is 'gpt2'.*same architecture"):
        run_audit(tiny_bundle("bert"), tmp_path / "a", AuditOptions(twin=str(gpt2_twin), **OPTIONS))
    other_tokens = shutil.copytree(tiny_bundle("bert"), tmp_path / "bert-twin")
    twin_manifest = json.loads((other_tokens / "edgeaudit.json").read_text())
    twin_manifest["variant"] = {**twin_manifest["variant"], "name": "random-init"}
    (other_tokens / "edgeaudit.json").write_text(json.dumps(twin_manifest))
    tokenizer = json.loads((other_tokens / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    word = next(token for token in vocab if token.isalpha() and len(token) > 2)
    vocab[word + "x"] = vocab.pop(word)  # same size and special tokens: only the words differ
    (other_tokens / "tokenizer.json").write_text(json.dumps(tokenizer))
    with pytest.raises(EdgeAuditError, match="twin's tokenizer differs"):
        run_audit(tiny_bundle("bert"), tmp_path / "b", AuditOptions(twin=str(other_tokens), **OPTIONS))
