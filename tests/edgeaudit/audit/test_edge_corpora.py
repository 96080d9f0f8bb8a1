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
    assert any("structural probes and identifiability skipped" in note for note in notes)
    assert document["claims"] and all(claim["verdict"] == "inconclusive" for claim in document["claims"])


def test_no_usable_sentence_is_one_line(tiny_bundle, tmp_path):
    words = "".join(f"{i}\tw\tw\tX\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}\t_\t_\n"
                    for i in range(1, 80))
    data = tmp_path / "long.conllu"
    data.write_text("# sent_id = long\n" + words + "\n", encoding="utf-8")
    with pytest.raises(EdgeAuditError, match="no usable sentences.*1 too-long") as caught:
        run_audit(tiny_bundle("bert"), tmp_path / "b", AuditOptions(data=str(data), **OPTIONS))
    assert "\n" not in caught.value.one_line()
