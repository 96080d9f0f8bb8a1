"""Edge-size corpora and silent drops: one sentence audits without a crash (what cannot be estimated says why),
none left after skips fails in one line, and norm rows dropped by the reader are counted in audit.json."""

from __future__ import annotations

import pytest

from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.run import run_audit
from edgeaudit.errors import EdgeAuditError

ONE = """# sent_id = only-1
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_
3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\t_

"""
FAST = dict(min_count=1, shuffles=2, bootstrap=20, folds=2, structural_max_iter=5, progress=False)
WORDS = ("dog", "cat", "horse", "cow", "pig", "sheep", "lion", "tiger")


def test_one_sentence_audit_states_what_cannot_be_estimated(tiny_bundle, tmp_path):
    (tmp_path / "one.conllu").write_text(ONE, encoding="utf-8")
    norms = "word,size,weight\n" + "".join(f"{w},{i % 3 + 1},{(i * 7) % 5 + 1}\n" for i, w in enumerate(WORDS))
    norms += "rock,0,0\ndog_(toy),9,9\n"  # a featureless concept and a second concept named by the word dog
    (tmp_path / "n.csv").write_text(norms, encoding="utf-8")
    document = run_audit(tiny_bundle("bert"), tmp_path / "out",
                         AuditOptions(data=str(tmp_path / "one.conllu"), norms=str(tmp_path / "n.csv"),
                                                norm_targets="value", **FAST))
    reason = document["probes"]["not_estimated"]["structural"]
    assert reason.startswith("too few instances: 1 extracted sentence(s)")
    assert document["claims"] and all(c["verdict"] and c["reason"] for c in document["claims"])
    assert all(c["verdict"] == "inconclusive" for c in document["claims"] if c["kind"] == "attention-head")
    norms_section = document["probes"]["property"]["norms"]
    assert norms_section["skipped_by_kind"] == {"no-features": 1}  # dog (toy) is kept apart from dog, by sense
    assert any("rock" in line for line in norms_section["skipped"])
    assert document["probes"]["property"]["conventions"]["ambiguous_words"] == 1


def test_no_sentence_left_after_runtime_skips_fails_in_one_line(tiny_bundle, tmp_path):
    rows = "".join(f"{i}\tw{i}\tw\tX\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}\t_\t_\n"
                   for i in range(1, 200))
    (tmp_path / "long.conllu").write_text("# sent_id = long-1\n" + rows + "\n", encoding="utf-8")
    with pytest.raises(EdgeAuditError) as info:
        run_audit(tiny_bundle("bert"), tmp_path / "out",
                  AuditOptions(data=str(tmp_path / "long.conllu"), probes=("attention",), **FAST))
    assert info.value.one_line().startswith(f"no usable sentences in {tmp_path / 'long.conllu'}: 1 skipped (1 too-long)")
