"""A variant's fingerprint: what decides whether a finished result may be reused."""

from __future__ import annotations

import dataclasses

from edgeaudit.audit.options import AuditOptions
from edgeaudit.compare.options import CompareOptions
from edgeaudit.sensitivity.task import VariantTask, with_runtime

TASK = VariantTask(name="only:layer0.mlp", kind="only", block="layer0.mlp", float_blocks=("layer1.mlp",),
                   float_nodes=("n1",), reference_bundle="/b", reference_sha256="a" * 64, reference_audit="/o/reference",
                   preset="int8-dynamic", out="/o/variants/only-layer0.mlp",
                   compare=CompareOptions(audit=AuditOptions(max_sentences=10), progress=False))


def test_how_a_variant_runs_does_not_change_its_fingerprint():
    assert with_runtime(TASK, jobs=1, threads=1).fingerprint() == TASK.fingerprint()
    assert dataclasses.replace(TASK, keep_bundle=True, prepared="/elsewhere").fingerprint() == TASK.fingerprint()


def test_what_a_variant_computes_does():
    changed = [dataclasses.replace(TASK, reference_sha256="b" * 64),  # the reference re-exported in place
               dataclasses.replace(TASK, float_nodes=("n1", "n2")),
               dataclasses.replace(TASK, preset="int4"),
               dataclasses.replace(TASK, compare=CompareOptions(audit=AuditOptions(max_sentences=11), progress=False)),
               dataclasses.replace(TASK, compare=CompareOptions(audit=AuditOptions(max_sentences=10),
                                                                drift_tolerance=0.5, progress=False))]
    assert len({task.fingerprint() for task in [TASK, *changed]}) == len(changed) + 1
