"""Token correspondence: do positions still stand for their tokens? (rollout self-share, identifiability).

It makes no claims of its own: head claims are judged against it (a head past the layer where positions stop
standing for their tokens is an ``unwarranted-assumption``), and audit.json reports both signals per layer.
"""

from __future__ import annotations

from edgeaudit.audit.plugin import AuditState, ClaimPlugin


class CorrespondencePlugin(ClaimPlugin):
    group = "correspondence"
    needs_store = True
    needs_rollout = True

    def stages(self, state: AuditState) -> list[str]:
        return ["identifiability"]

    def measure(self, state: AuditState) -> None:
        from edgeaudit.audit.structural import StructuralSettings, run_identifiability

        options = state.options
        settings = StructuralSettings.from_options(options)
        with state.stages.stage("identifiability"):
            state.identifiability = state.checkpoints.run(
                "identifiability", state.keys["identifiability"],
                lambda: run_identifiability(state.real.store, state.split, settings, bar=options.progress,
                                            replicates=options.bootstrap, confidence=options.confidence))


def correspondence_layers(state: AuditState) -> list:
    """Per attention layer, both signals with their CIs over sentences, and which sentences each used."""
    from edgeaudit.verdict import LayerCorrespondence

    real, identifiability, options = state.real, state.identifiability, state.options
    rollout = real.relational.rollout if real.relational and real.relational.rollout else None
    ci = {"replicates": options.bootstrap, "confidence": options.confidence, "seed": options.seed}
    sentences: dict[str, str] = {}
    if rollout is not None:
        sentences["rollout"] = f"all {rollout.num_sentences} extracted sentences ({rollout.num_positions} words)"
    if identifiability is not None and identifiability.get("sentences"):
        used = identifiability["sentences"]
        sentences["identifiability"] = f"the {used['scored']} held-out test sentences of the structural split"
    out = []
    for layer in range(real.bundle.manifest.num_layers):
        share = 1.0 if layer == 0 else (None if rollout is None else float(rollout.self_share[layer - 1]))
        share_ci = None if layer == 0 or rollout is None else rollout.interval(layer - 1, **ci)
        ident = None if identifiability is None else identifiability["direct"][layer]
        ident_ci = None
        if identifiability is not None and identifiability.get("direct_ci"):
            pair = identifiability["direct_ci"][layer]
            ident_ci = None if None in pair else (pair[0], pair[1])
        out.append(LayerCorrespondence(layer=layer, rollout_self_share=share, identifiability=ident,
                                       rollout_ci=share_ci, identifiability_ci=ident_ci, sentences=sentences))
    return out


PLUGIN = CorrespondencePlugin()
