"""The reference's fitted probes applied unchanged to the variant's activations.

The variant's own audit *retrains* every probe on the variant, which answers "can the variant's
activations still be read as a tree / as norms?". A deployed explanation is the reference's probe, so we
also ask "does the reference's probe still read the variant?" — the applied score. The reference audit saved
what each probe group fitted (``audit/fitted.py``); each group's plugin scores its own saved probes on the
variant's stored activations of the same test sentences / concepts (``ClaimPlugin.apply``), with no dataset
read and nothing refitted: the structural group the distance probe of each layer (UUAS of the MST, Hewitt &
Manning 2019), the property group each fold's mapper fed the *variant's* vectors of that fold's held-out concepts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgeaudit.audit.fitted import FittedState
from edgeaudit.audit.plugin import plugins
from edgeaudit.claim_kinds import GROUPS
from edgeaudit.results import AuditResult
from edgeaudit.results.compare_result import AppliedScore


def applied_scores(reference: AuditResult, fitted: FittedState | None, why_not: str | None,
                   variant_dir: Path, *, log: Callable[[str], None], notes: list[str]) -> dict[str, AppliedScore]:
    """Reference claim id -> applied score, for the claims whose group saved probes compare can apply."""
    claims = reference.claims
    kinds = {claim.kind for claim in claims}
    appliers = [plugin for plugin in plugins() if plugin.saves_probes
                and any(kind.name in kinds for kind in GROUPS[plugin.group].kinds)]
    if not appliers:
        return {}
    if fitted is None:
        notes.append(f"{', '.join(p.group for p in appliers)} claims: applied is null — the reference's fitted "
                     f"probes: {why_not}")
        return {}
    out: dict[str, AppliedScore] = {}
    for plugin in appliers:
        if plugin.group in fitted.fits:
            found = plugin.apply(fitted.fits[plugin.group], variant_dir, claims, log=log, notes=notes)
            out.update({claim_id: AppliedScore(**score) for claim_id, score in found.items()})
    return out
