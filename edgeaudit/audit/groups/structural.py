"""Structural-probe claims: "hidden layer l encodes the dependency tree" (Hewitt & Manning 2019), per layer.

Measured on the stored hidden states (and the twin's, as a control), fitted on the structural split's training
sentences; the audit saves every layer's distance probe so that compare scores *that* probe on a variant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeaudit.audit.plugin import AuditState, ClaimPlugin
from edgeaudit.claim_kinds import STRUCTURAL_PROBE
from edgeaudit.errors import EdgeAuditError

if TYPE_CHECKING:
    from edgeaudit.verdict import Claim


class StructuralPlugin(ClaimPlugin):
    group = "structural"
    saves_probes = True
    needs_store = True
    needs_twin_store = True

    def stages(self, state: AuditState) -> list[str]:
        return ["structural", *(["structural-twin"] if state.twin_bundle is not None else [])]

    def measure(self, state: AuditState) -> None:
        from edgeaudit.audit.structural import StructuralSettings, run_structural

        real, twin, options = state.real, state.twin, state.options
        settings = StructuralSettings.from_options(options)
        with state.stages.stage("structural"):
            real.structural = state.checkpoints.run(
                "structural", state.keys["structural"],
                lambda: run_structural(real.store, state.store_trees(real.store), state.split, settings,
                                       progress=state.log, bar=options.progress, jobs=options.workers))
        if twin is None or twin.store is None:
            return
        if twin.store.sentence_ids != real.store.sentence_ids:
            raise EdgeAuditError("the twin skipped different sentences than the audited bundle",
                                 hint="the twin must share the audited bundle's tokenizer and length limit")
        with state.stages.stage("structural-twin"):
            twin.structural = state.checkpoints.run(
                "structural-twin", state.keys["structural-twin"],
                lambda: run_structural(twin.store, state.store_trees(twin.store), state.split, settings,
                                       bar=options.progress, label="structural-twin", jobs=options.workers))

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.structural_claims import structural_claims

        if state.real.structural is None:
            return []
        return structural_claims(state.real.structural, state.ctx,
                                 twin=state.twin.structural if state.twin else None)

    def fitted(self, state: AuditState) -> Any:
        from edgeaudit.audit.fitted import structural_fit

        real = state.real
        if real.structural is None:
            return None
        return structural_fit(real.structural, real.store.sentence_ids, state.store_trees(real.store))

    def apply(self, fitted: Any, variant_dir: Path, claims: list[Claim], *, log: Callable[[str], None],
              notes: list[str]) -> dict[str, dict[str, Any]]:
        """UUAS of the reference's distance probe of each claimed layer, on the variant's test sentences."""
        from edgeaudit.audit.fitted import variant_store
        from edgeaudit.audit.layers import layer_sentences
        from edgeaudit.probes import DistanceProbe, distance_metrics

        mine = [c for c in claims if c.kind == STRUCTURAL_PROBE and c.subject["layer"] in fitted.probes]
        store = variant_store(variant_dir, "activations", "structural", fitted.sentence_ids, notes) if mine else None
        if store is None:
            return {}
        scores: dict[int, float] = {}
        for layer in sorted({c.subject["layer"] for c in mine}):
            probe = DistanceProbe.from_fitted_state(fitted.probes[layer])
            predicted = probe.predict(layer_sentences(store, layer, fitted.test))
            metrics = distance_metrics(predicted, fitted.heads, fitted.punct)
            if metrics.num_edges:
                scores[layer] = float(metrics.uuas)
            log(f"applied structural probe: layer {layer} done")
        return {c.claim_id: {"score": scores[c.subject["layer"]],
                             "source": "the reference's distance probe on the variant's layer"}
                for c in mine if c.subject["layer"] in scores}


PLUGIN = StructuralPlugin()
