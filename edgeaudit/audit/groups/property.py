"""Property-inference claims: layer embeddings predict human feature norms, against every property control.

Its stage is checkpointed on its own (it reads the norms, not the corpus); the audit saves each fold's fitted
mapper per layer so that compare feeds the variant's concept vectors to the reference's mappers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeaudit.audit.plugin import AuditState, ClaimPlugin
from edgeaudit.claim_kinds import PROPERTY_INFERENCE

if TYPE_CHECKING:
    from edgeaudit.verdict import Claim


class PropertyPlugin(ClaimPlugin):
    group = "property"
    saves_probes = True
    stage = "property"

    def stages(self, state: AuditState) -> list[str]:
        return ["property"]

    def keys(self, state: AuditState) -> dict[str, str]:
        from edgeaudit.audit.checkpoint import stage_key
        from edgeaudit.audit.document import _file_sha256
        from edgeaudit.audit.property_stage import PROPERTY_RULE
        from edgeaudit.verdict import VERDICT_RULE

        options, twin = state.options, state.twin_bundle
        names = ("norms", "categories", "categories_pos", "norm_targets", "norm_columns", "min_feature_concepts",
                 "concept_template", "property_layers", "mapper", "folds", "shuffles", "bootstrap", "confidence",
                 "seed", "thresholds")
        values = {name: value for name, value in options.to_dict().items() if name in names}
        return {"property": stage_key(
            stage="property", bundle=state.real.bundle.sha256, twin=twin.sha256 if twin else None,
            verdict_rule=VERDICT_RULE, property_rule=PROPERTY_RULE,
            norms_sha256=_file_sha256(options.norms or "builtin:concepts"),
            categories_sha256=_file_sha256(options.categories), **values)}

    def prepare(self, state: AuditState) -> None:
        from edgeaudit.audit.property_stage import load_property_data

        state.prepared[self.group] = load_property_data(state.options)  # bad norms fail before any model work

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.property_stage import run_property_stage

        with state.stages.stage(self.stage):
            section, claims, fit = state.checkpoints.run(
                "property", state.keys["property"],
                lambda: run_property_stage(state.real.bundle, state.twin_bundle, state.options, state.out_dir,
                                           log=state.log, data=state.prepared.get(self.group)))
        state.results[self.group] = (section, fit)
        return claims

    def sections(self, state: AuditState) -> dict[str, Any]:
        result = state.results.get(self.group)
        return {} if result is None else {"property": result[0]}

    def fitted(self, state: AuditState) -> Any:
        result = state.results.get(self.group)
        return None if result is None else result[1]

    def apply(self, fitted: Any, variant_dir: Path, claims: list[Claim], *, log: Callable[[str], None],
              notes: list[str]) -> dict[str, dict[str, Any]]:
        """Each claimed layer's per-fold mappers fed the variant's vectors of their held-out concepts."""
        from edgeaudit.audit.concepts import vectors_from_store
        from edgeaudit.audit.fitted import variant_store
        from edgeaudit.probes.property import PROBE_METRICS, FoldFits, fold_predictions, predict_from_state
        from edgeaudit.probes.property.crossval import Splits, score_predictions
        from edgeaudit.probes.property.metrics import EvalContext

        mine = [c for c in claims if c.kind == PROPERTY_INFERENCE and c.subject["layer"] in fitted.mappers]
        items = [f"concept-{i}" for i in fitted.kept]
        store = variant_store(variant_dir, "concept-activations", "property", items, notes) if mine else None
        if store is None:
            return {}
        layers = sorted({c.subject["layer"] for c in mine})
        _, vectors = vectors_from_store(store, layers, template=fitted.template)
        splits = Splits("saved", tuple((np.flatnonzero(fitted.fold_of != k), np.flatnonzero(fitted.fold_of == k))
                                       for k in range(int(fitted.fold_of.max()) + 1)))
        scores: dict[tuple[int, str], float] = {}
        for layer in layers:
            fits = FoldFits(fitted.mappers[layer], fitted.thresholds[layer])
            predicted = fold_predictions(fits, vectors[layer], splits, fitted.Y.shape[1], predict=predict_from_state)
            context = EvalContext(fitted.fold_of, "fold", None, predicted.thresholds)
            for metric, value in score_predictions(predicted.P, fitted.Y, PROBE_METRICS, context).means.items():
                if np.isfinite(value):
                    scores[(layer, metric)] = float(value)
        return {c.claim_id: {"score": scores[(c.subject["layer"], c.metric)],
                             "source": "the reference's mapper of each fold fed the variant's vectors"}
                for c in mine if (c.subject["layer"], c.metric) in scores}


PLUGIN = PropertyPlugin()
