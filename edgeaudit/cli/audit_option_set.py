"""The audit's options as click options, defined once for every command that runs an audit (audit, compare).

``compare`` audits both sides of a comparison; when it offered only some of the audit's options, a comparison of
two bundles silently ran with the default mapper, folds and verdict thresholds. Both commands now take their
audit options from this one list, so a new option reaches both and the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from edgeaudit.audit.options import PROBE_GROUPS, AuditOptions, parse_probe_list
from edgeaudit.cli.speed_options import jobs_option, threads_option
from edgeaudit.errors import EdgeAuditError
from edgeaudit.verdict import CORRESPONDENCE_SIGNALS, VerdictThresholds

THRESHOLD_PARAMETERS = ("min_effect", "max_ci_width", "min_instances", "correspondence_signal",
                        "min_rollout_self_share", "min_identifiability", "max_false_discovery_rate")


def parse_layers(text: str | None, option: str = "--property-layers") -> tuple[int, ...] | None:
    """``0,6`` or ``0-3,6`` -> (0, 6) / (0, 1, 2, 3, 6)."""
    if text is None:
        return None
    layers: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            first, _, last = part.partition("-")
            layers += range(int(first), int(last) + 1) if last else [int(first)]
    except ValueError:
        raise EdgeAuditError(f"option {option}: {text!r} is not a comma-separated list of layer numbers or ranges",
                             hint="e.g. 0,6 or 0-3,6") from None
    return tuple(dict.fromkeys(layers))


def parse_columns(text: str | None) -> tuple[str, ...] | None:
    """``"Conc.M, SD"`` -> ("Conc.M", "SD"); None stays None (detect the columns)."""
    if text is None:
        return None
    columns = tuple(part.strip() for part in text.split(",") if part.strip())
    if not columns:
        raise EdgeAuditError(f"option --norm-columns: {text!r} names no column", hint="e.g. --norm-columns Prod_Freq")
    return columns


# (parameter name, click option), in the order --help shows them
OPTIONS: tuple[tuple[str, Callable], ...] = (
    ("data", click.option("--data", default="builtin:treebank", show_default=True,
                          help="Treebank: a CoNLL-U file (.conllu or .conllu.gz), builtin:treebank / "
                               "builtin:treebank-nonce / builtin:ewt, or - for standard input.")),
    ("probes", click.option("--probes", default=",".join(PROBE_GROUPS), show_default=True,
                            help="Comma-separated probe groups to run (edgeaudit list probe-groups).")),
    ("twin", click.option("--twin", type=click.Path(path_type=str),
                          help="Random-init twin bundle (edgeaudit export --random-init).")),
    ("nonce", click.option("--nonce", help="Nonce treebank with the same trees (default for builtin:treebank: "
                                           "builtin:treebank-nonce).")),
    ("norms", click.option("--norms", help="Feature norms for property probes: a CSV/TSV file or builtin:concepts "
                                           "(default).")),
    ("categories", click.option("--categories", type=click.Path(path_type=str),
                                help="word -> category table for the category controls.")),
    ("categories_pos", click.option("--categories-pos", help="Keep only category rows of this part of speech "
                                                             "(OEWN supersenses: n).")),
    ("norm_targets", click.option(
        "--norm-targets", type=click.Choice(["binary", "value"]), default="binary", show_default=True,
        help="Property targets: binary = a concept has a feature when the norms list it (any value above 0; "
             "McRae, CSLB, Buchanan); value = the number itself (production frequency, a rating). Same default "
             "for every norm set; a table of ratings needs value.")),
    ("norm_columns", click.option(
        "--norm-columns", help="Value column(s) of the norms, comma-separated: the one value column of a long "
                               "table (e.g. Prod_Freq) or the feature columns of a wide one (e.g. Vision,Audition). "
                               "Default: detected.")),
    ("min_feature_concepts", click.option(
        "--min-feature-concepts", type=click.IntRange(min=1), default=5, show_default=True,
        help="Leave out features listed for fewer concepts (the published McRae setups keep features of >= 5 "
             "concepts); counted in audit.json.")),
    ("concept_template", click.option(
        "--concept-template", help='Embed each concept inside this sentence, e.g. "This is a {word}." (the '
                                   "concept's own words are pooled). Default: the word alone.")),
    ("min_count", click.option("--min-count", type=int, default=100, show_default=True,
                               help="Relations with fewer instances are listed but not claimed about.")),
    ("max_sentences", click.option("--max-sentences", type=int, help="Use only the first N sentences.")),
    ("property_layers", click.option("--property-layers", help="Hidden-state layers for property probes, e.g. 0,6 "
                                                               "(default: first and last).")),
    ("mapper", click.option("--mapper", type=click.Choice(["plsr", "ridge", "mlp"]), default="plsr",
                            show_default=True)),
    ("folds", click.option("--folds", type=int, default=10, show_default=True)),
    ("shuffles", click.option("--shuffles", type=int, default=100, show_default=True,
                              help="Permutations for the shuffled control.")),
    ("bootstrap", click.option("--bootstrap", type=int, default=1000, show_default=True,
                               help="Bootstrap resamples for every CI.")),
    ("confidence", click.option("--confidence", type=float, default=0.95, show_default=True,
                                help="Level of every bootstrap confidence interval the verdicts rest on "
                                     "(between 0.5 and 1).")),
    ("seed", click.option("--seed", type=int, default=0, show_default=True)),
    ("structural_rank", click.option("--structural-rank", type=click.IntRange(min=1), default=32, show_default=True,
                                     help="Rank of the structural (distance/depth) probes.")),
    ("structural_max_iter", click.option(
        "--structural-max-iter", type=click.IntRange(min=1), default=300, show_default=True,
        help="L-BFGS iteration cap of each structural probe fit; fits normally stop earlier, where their loss on "
             "the held-out dev sentences stops falling (a fit that reaches the cap is noted in its claim).")),
    ("structural_max_train", click.option("--structural-max-train", type=click.IntRange(min=1), default=500,
                                          show_default=True, help="Training sentences of the structural probes, "
                                                                  "at most.")),
    ("min_effect", click.option("--min-effect", type=float, default=0.05, show_default=True,
                                help="Margin over the strongest control needed for 'supported'.")),
    ("max_ci_width", click.option("--max-ci-width", type=float, default=0.30, show_default=True,
                                  help="Wider margin CIs make a claim 'inconclusive'.")),
    ("min_instances", click.option("--min-instances", type=int, default=30, show_default=True,
                                   help="Claims resting on fewer instances are 'inconclusive'.")),
    ("correspondence_signal", click.option(
        "--correspondence-signal", type=click.Choice(CORRESPONDENCE_SIGNALS), default="rollout", show_default=True,
        help="Which token-correspondence assumption head claims are tested against.")),
    ("min_rollout_self_share", click.option("--min-rollout-self-share", type=float, default=0.25, show_default=True)),
    ("min_identifiability", click.option("--min-identifiability", type=float, default=0.5, show_default=True)),
    ("max_false_discovery_rate", click.option(
        "--max-false-discovery-rate", type=float, default=0.05, show_default=True,
        help="Benjamini-Hochberg rate over the run's margin tests: a 'supported' claim whose adjusted p-value is "
             "above it becomes 'inconclusive' (multiplicity).")),
    ("threads", threads_option),
    ("jobs", jobs_option),
    ("batch_tokens", click.option("--batch-tokens", type=int, help="Token budget per model batch.")),
)
NAMES = tuple(name for name, _ in OPTIONS)


def audit_option_set(command: Callable) -> Callable:
    """Add every audit option to a click command (its function receives them as keyword arguments)."""
    for _, option in reversed(OPTIONS):
        command = option(command)
    return command


def audit_options_from(params: dict[str, Any], *, progress: bool) -> AuditOptions:
    """The ``AuditOptions`` of a command's parsed parameters (the audit options among them)."""
    thresholds = VerdictThresholds(**{name: params[name] for name in THRESHOLD_PARAMETERS})
    plain = {name: params[name] for name in NAMES if name not in THRESHOLD_PARAMETERS}
    plain["probes"] = parse_probe_list(plain["probes"])
    plain["property_layers"] = parse_layers(plain["property_layers"])
    plain["norm_columns"] = parse_columns(plain["norm_columns"])
    return AuditOptions(**plain, thresholds=thresholds, progress=progress)


def option_fields(names: tuple[str, ...]) -> tuple[str, ...]:
    """``AuditOptions`` fields behind CLI parameter names (the verdict thresholds live in one field)."""
    return tuple(dict.fromkeys("thresholds" if name in THRESHOLD_PARAMETERS else name for name in names))
