"""Do verdicts replicate? The same model audited on two disjoint samples of one treebank (UD EWT dev and test).

    python -m benchmarks.replication [--max-sentences N] [--work DIR]

Both samples are real web English annotated by the same guidelines, so a claim about the model ("a head tracks
nsubj", "layer 3 encodes the tree") should get the same verdict on both, up to sampling noise. Sampling noise may
move a claim by one step (``supported`` ↔ ``inconclusive`` ↔ ``artifact``) but should never turn a ``supported``
claim into an ``artifact`` or back: that would mean the verdict rule decides on noise.

Claims are matched by what they are about (``compare.claims.match_key``: the best head for nsubj is one claim even
when the two samples pick different heads). The verdicts are tabulated twice from the same audits: under today's
rule (the verdicts in audit.json) and under the rule before issue 16 (one line: ``artifact`` unless the margin CI
clears zero and the margin reaches ``--min-effect``; no multiplicity control; winners chosen and scored on the same
sentences), recomputed from each claim's recorded in-sample margin (``evidence.selection.in_sample_margin``), CI and
instance count, so the two tables differ only by the rule. Property claims are left out:
their concepts do not come from the treebank, so both samples would give the same numbers.

Writes ``benchmarks/results/replication.json``; the README quotes its tables.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import common

RESULT = common.DEFAULT_RESULTS / "replication.json"
PROBES = "attention,tree,structural,correspondence"
VERDICTS = ("supported", "inconclusive", "artifact", "unwarranted-assumption")


def _point_rule_fails(correspondence: dict[str, Any] | None, thresholds: dict[str, Any]) -> bool:
    """The token-correspondence rule before issue 16: the named layer's corpus mean against the floor."""
    if not correspondence:
        return False
    signal = correspondence.get("signal_tested", "rollout")
    share, ident = correspondence.get("rollout_self_share"), correspondence.get("identifiability")
    rollout = signal in ("rollout", "both") and share is not None and share < thresholds["min_rollout_self_share"]
    lost = signal in ("identifiability", "both") and ident is not None and ident < thresholds["min_identifiability"]
    return rollout or lost


def legacy_verdict(claim: dict[str, Any], thresholds: dict[str, Any]) -> str:
    """The score verdict of the rule before issue 16, from what audit.json records of the claim."""
    if claim["verdict"] == "unwarranted-assumption" or \
            _point_rule_fails((claim.get("evidence") or {}).get("correspondence"), thresholds):
        return "unwarranted-assumption"
    if claim["n"] < thresholds["min_instances"]:
        return "inconclusive"
    ci, margin = claim.get("margin_ci"), claim.get("margin")
    before = ((claim.get("evidence") or {}).get("selection") or {}).get("in_sample_margin")
    if before is not None:  # the old rule saw the winner scored on the sentences that chose it
        margin, ci = before[0], before[1:]
    if margin is None or ci is None or claim.get("strongest_control") is None or None in ci:
        return "inconclusive"
    low, high = ci
    wide = high - low > thresholds["max_ci_width"]
    if low <= 0.0:
        return "inconclusive" if wide and high > thresholds["min_effect"] else "artifact"
    if margin < thresholds["min_effect"]:
        return "artifact"
    return "inconclusive" if wide else "supported"


def agreement(first: dict[str, Any], second: dict[str, Any], rule: str) -> dict[str, Any]:
    """Verdict cross-table of the claims both audits make, and the claims that change verdict."""
    from edgeaudit.compare.claims import match_key

    def verdicts(document: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
        out = {}
        for claim in document["claims"]:
            if claim["kind"] == "property-inference":
                continue
            verdict = claim["verdict"] if rule == "current" else legacy_verdict(claim, document["thresholds"])
            out[match_key(claim["kind"], claim["id"], claim.get("subject"))] = {**claim, "rule_verdict": verdict}
        return out

    a, b = verdicts(first), verdicts(second)
    shared = [key for key in a if key in b]
    table = Counter((a[key]["rule_verdict"], b[key]["rule_verdict"]) for key in shared)
    changes = [{"claim": a[key]["text"], "dev": _cell(a[key]), "test": _cell(b[key])}
               for key in shared if a[key]["rule_verdict"] != b[key]["rule_verdict"]]
    opposite = sum(n for (x, y), n in table.items() if {x, y} == {"supported", "artifact"})
    return {"rule": rule, "claims": len(shared), "agree": sum(n for (x, y), n in table.items() if x == y),
            "supported_artifact_flips": opposite,
            "table": {x: {y: table.get((x, y), 0) for y in VERDICTS} for x in VERDICTS},
            "only_in_dev": len(a) - len(shared), "only_in_test": len(b) - len(shared), "changes": changes}


def _cell(claim: dict[str, Any]) -> dict[str, Any]:
    return {"verdict": claim["rule_verdict"], "id": claim["id"], "margin": claim.get("margin"),
            "margin_ci": claim.get("margin_ci"), "finding": claim.get("finding")}


def run_audit(bundle: Path, data: Path, out: Path, max_sentences: int | None) -> dict[str, Any]:
    command = [str(common.ROOT / ".venv" / "bin" / "edgeaudit"), "audit", str(bundle), "--data", str(data),
               "--probes", PROBES, "--out", str(out), "--quiet", "--overwrite"]
    if max_sentences:
        command += ["--max-sentences", str(max_sentences)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"replication: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads((out / "audit.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-sentences", type=int, default=None, help="first N sentences of each sample")
    parser.add_argument("--work", type=Path, default=common.DEFAULT_CACHE / "replication")
    args = parser.parse_args(argv)
    base = Path(os.environ.get("EDGEAUDIT_DATA") or common.ROOT.parent / "shared" / "data") / "ud_english_ewt"
    samples = {"dev": base / "en_ewt-ud-dev.conllu", "test": base / "en_ewt-ud-test.conllu"}
    missing = [str(path) for path in samples.values() if not path.is_file()]
    if missing:
        print(f"replication: missing {', '.join(missing)} (set EDGEAUDIT_DATA to the shared data folder)",
              file=sys.stderr)
        return 2
    settings = common.Settings()
    bundle = common.ensure_bundles(settings, int8=False)["fp32"]
    documents = {}
    for name, path in samples.items():
        settings.log(f"auditing {path.name} ...")
        documents[name] = run_audit(bundle, path, args.work / name, args.max_sentences)
    result = {"schema": "edgeaudit.replication", "date": common.now_iso(), "git": common.git_state(),
              "model": "all-MiniLM-L6-v2 (fp32)", "probes": PROBES,
              "samples": {name: {"file": samples[name].name, "sentences": documents[name]["data"]["sentences"]}
                          for name in samples},
              "thresholds": documents["test"]["thresholds"],
              "current": agreement(documents["dev"], documents["test"], "current"),
              "before_issue_16": agreement(documents["dev"], documents["test"], "legacy")}
    RESULT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    for rule in ("before_issue_16", "current"):
        row = result[rule]
        print(f"{rule}: {row['agree']}/{row['claims']} claims agree, {row['supported_artifact_flips']} "
              f"supported<->artifact")
    print(f"wrote {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
