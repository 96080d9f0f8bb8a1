"""The audit's decoder stage: previous-token and induction heads of the bundle (and its twin), as claims."""

from __future__ import annotations

from collections.abc import Callable

from edgeaudit.audit.decoder_heads import (
    SequenceSettings,
    decoder_head_claims,
    decoder_section,
    measure_heads,
)
from edgeaudit.audit.head_claims import ClaimContext
from edgeaudit.bundle import Bundle
from edgeaudit.runtime import SessionOptions
from edgeaudit.runtime.alignment import WordTokenizer
from edgeaudit.verdict import Claim


def run_decoder_stage(bundle: Bundle, twin: Bundle | None, ctx: ClaimContext, options,
                      *, log: Callable[[str], None]) -> tuple[dict, list[Claim]]:
    settings = SequenceSettings(seed=options.seed)
    session = SessionOptions(threads=options.threads)
    prefix = WordTokenizer.from_bundle(bundle).prefix_token
    real = measure_heads(bundle, settings, session, progress=log)
    twin_scores = measure_heads(twin, settings, session) if twin is not None else None
    claims = decoder_head_claims(real, ctx, settings, start=1 if prefix else 0, twin=twin_scores)
    return decoder_section(real, settings, prefix), claims
