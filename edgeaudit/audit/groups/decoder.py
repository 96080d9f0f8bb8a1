"""Decoder-head claims: previous-token and induction heads on random token sequences (causal models only)."""

from __future__ import annotations

from typing import Any

from edgeaudit.audit.plugin import AuditState, ClaimPlugin


class DecoderPlugin(ClaimPlugin):
    group = "decoder"
    stage = "decoder-heads"

    def claims(self, state: AuditState) -> list:
        from edgeaudit.audit.decoder_claims_stage import run_decoder_stage

        if not state.real.bundle.manifest.causal:  # an encoder has no such heads to claim about
            return []
        with state.stages.stage(self.stage):
            section, claims = run_decoder_stage(state.real.bundle, state.twin_bundle, state.ctx, state.options,
                                                log=state.log)
        state.results[self.group] = section
        return claims

    def sections(self, state: AuditState) -> dict[str, Any]:
        section = state.results.get(self.group)
        return {} if section is None else {"decoder_heads": section}


PLUGIN = DecoderPlugin()
