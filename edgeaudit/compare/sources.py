"""What ``edgeaudit compare`` was given: a bundle to audit, or a finished audit (and, if still there, its bundle).

Claims are only comparable when both audits ran on the same corpus with the same options, so a finished
audit's options are the options of the comparison, and two finished audits must agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from edgeaudit.audit.options import RUNTIME_ONLY, AuditOptions
from edgeaudit.bundle import MANIFEST_NAME, Bundle, load_bundle
from edgeaudit.errors import EdgeAuditError
from edgeaudit.results import AuditResult
from edgeaudit.verdict import VerdictThresholds

AUDIT_FILE = "audit.json"


@dataclass
class Side:
    """One side of a comparison (``label`` is "reference" or "variant")."""

    label: str
    given: Path
    kind: str  # "bundle" | "audit"
    bundle: Bundle | None = None
    audit_dir: Path | None = None
    audit: AuditResult | None = None
    bundle_note: str | None = None  # why the bundle is unavailable

    @property
    def bundle_sha256(self) -> str | None:
        if self.audit is not None:
            return self.audit.bundle.sha256
        return self.bundle.sha256 if self.bundle is not None else None

    @property
    def parent_sha256(self) -> str | None:
        """The sha256 of the bundle this side was compressed from (None: exported on its own)."""
        if self.audit is not None:
            return self.audit.bundle.parent_sha256
        return self.bundle.manifest.data["variant"].get("parent_sha256") if self.bundle is not None else None

    @property
    def variant_name(self) -> str:
        if self.audit is not None:
            return self.audit.bundle.variant
        return self.bundle.manifest.variant if self.bundle is not None else "?"


def read_audit(path: Path) -> AuditResult:
    """audit.json, validated against its schema (the same check ``edgeaudit report`` makes) before any use."""
    return AuditResult.read(path)


def _bundle_directory(recorded: str, audit_dir: Path) -> Path:
    """Where the audited bundle is: absolute as recorded, else relative to the working directory or, failing
    that, to the audit's folder (audit.json files written before paths were stored resolved)."""
    path = Path(recorded)
    if path.is_absolute() or path.is_dir():
        return path
    beside = audit_dir / path
    return beside if beside.is_dir() else path


def _bundle_of_audit(audit: AuditResult, audit_dir: Path) -> tuple[Bundle | None, str | None]:
    """The audited bundle if its directory still holds the very model that was audited."""
    recorded = audit.bundle.directory
    directory = _bundle_directory(recorded, audit_dir) if recorded else None
    if directory is None or not directory.is_dir():
        return None, f"the audited bundle {recorded or '(unrecorded)'} no longer exists"
    try:
        bundle = load_bundle(directory)
    except EdgeAuditError as error:
        return None, f"the audited bundle cannot be loaded ({error.one_line()})"
    if bundle.sha256 != audit.bundle.sha256:
        return None, f"{directory} now holds another model (sha256 {bundle.sha256[:12]}…, audited " \
                     f"{audit.bundle.sha256[:12]}…)"
    return bundle, None


def resolve_side(path: str | Path, label: str) -> Side:
    """A bundle directory (has edgeaudit.json), an audit directory (has audit.json) or an audit.json file."""
    path = Path(path)
    if path.is_file() and path.name == AUDIT_FILE:
        path = path.parent
    if not path.exists():
        raise EdgeAuditError(f"{path}: no such {label} (expected a bundle or audit directory)")
    if not path.is_dir():
        raise EdgeAuditError(f"{path}: is a file; the {label} must be a bundle directory or an audit directory")
    if (path / MANIFEST_NAME).is_file():
        return Side(label, path, "bundle", bundle=load_bundle(path))
    if (path / AUDIT_FILE).is_file():
        audit = read_audit(path / AUDIT_FILE)
        bundle, note = _bundle_of_audit(audit, path)
        return Side(label, path, "audit", bundle=bundle, audit_dir=path, audit=audit, bundle_note=note)
    raise EdgeAuditError(f"{path}: neither a bundle (no {MANIFEST_NAME}) nor an audit directory (no {AUDIT_FILE})",
                         hint="pass a bundle from 'edgeaudit export'/'compress' or a directory from 'edgeaudit audit'")


def options_from_dict(data: dict[str, Any]) -> AuditOptions:
    """Rebuild the ``AuditOptions`` echoed into an audit.json (unknown keys from newer versions are ignored)."""
    known = {f.name for f in fields(AuditOptions)}
    values = {key: value for key, value in data.items() if key in known}
    if "probes" in values:
        values["probes"] = tuple(values["probes"])
    if values.get("property_layers") is not None:
        values["property_layers"] = tuple(values["property_layers"])
    if isinstance(values.get("thresholds"), dict):
        values["thresholds"] = VerdictThresholds(**values["thresholds"])
    return AuditOptions(**values)


def comparable_options(options: AuditOptions) -> dict[str, Any]:
    data = options.to_dict()
    data["probes"] = sorted(data["probes"])  # a set of groups: the order they were typed in changes nothing
    for key in RUNTIME_ONLY:
        data.pop(key, None)
    data.pop("twin", None)  # the twin's path may differ; its effect shows in the controls
    return data


def option_differences(a: AuditOptions, b: AuditOptions) -> list[str]:
    left, right = comparable_options(a), comparable_options(b)
    return [f"{key}: {left.get(key)!r} vs {right.get(key)!r}" for key in sorted(set(left) | set(right))
            if left.get(key) != right.get(key)]


def _short(sha: str | None) -> str:
    return f"{sha[:12]}…" if sha else "none"


def lineage_problem(reference: Side, variant: Side) -> str | None:
    """Why the variant is not the reference or a direct compression of it (None when it is).

    A random-init twin or another export of the same architecture passes every shape and tokenizer check, and
    then "compares" as a wreck: the claims fall apart because the weights are unrelated, not because of
    compression. The variant's manifest names its parent, so a comparison can tell.
    """
    ref_sha, var_sha, parent = reference.bundle_sha256, variant.bundle_sha256, variant.parent_sha256
    if ref_sha is None or var_sha is None or ref_sha == var_sha or parent == ref_sha:
        return None
    what = f"the variant ({variant.given}, {variant.variant_name} {_short(var_sha)})"
    if reference.parent_sha256 == var_sha:
        return (f"{what} is the parent of the reference ({reference.given}, {reference.variant_name}): "
                "the arguments look swapped")
    if parent is None:
        return (f"{what} records no parent: it was exported on its own, not compressed from the reference "
                f"({reference.given}, {_short(ref_sha)})")
    if parent == reference.parent_sha256:
        return (f"{what} and the reference are both variants of {_short(parent)} (siblings), "
                "not one compressed from the other")
    return (f"{what} was made from {_short(parent)}, not from the reference ({_short(ref_sha)}): if it is a variant "
            "of a variant (a chain such as fp32 -> fp16 -> int4), compare it with its direct parent, or compare "
            "each step")


def check_lineage(reference: Side, variant: Side, *, unrelated_ok: bool) -> str | None:
    """Refuse unrelated bundles unless the user says so; return the note recorded when they do."""
    problem = lineage_problem(reference, variant)
    if problem is not None and not unrelated_ok:
        raise EdgeAuditError(problem, hint="pass --unrelated-ok to compare them anyway")
    return None if problem is None else f"unrelated bundles compared (--unrelated-ok): {problem}"


def check_same_model_shape(reference: Bundle, variant: Bundle) -> None:
    a, b = reference.manifest, variant.manifest
    if (a.num_layers, a.num_heads, a.hidden_size) != (b.num_layers, b.num_heads, b.hidden_size):
        raise EdgeAuditError(
            f"{variant.directory}: {b.num_layers} layers x {b.num_heads} heads, hidden {b.hidden_size}; the reference "
            f"has {a.num_layers} x {a.num_heads}, hidden {a.hidden_size}",
            hint="compare a model with its own compressed variant")


def check_same_tokenizer(reference: Bundle, variant: Bundle) -> None:
    """Paired runs feed both models the same ids: the tokenizer files must be byte-identical."""
    from edgeaudit.bundle import sha256_of

    ref_hash, var_hash = sha256_of(reference.tokenizer_path), sha256_of(variant.tokenizer_path)
    if ref_hash != var_hash:
        raise EdgeAuditError(
            f"{variant.tokenizer_path}: differs from the reference's tokenizer ({reference.tokenizer_path}; sha256 "
            f"{var_hash[:12]}… vs {ref_hash[:12]}…)",
            hint="both bundles must share one tokenizer; 'edgeaudit compress' copies the parent's")
    keys = ("max_length", "pad_token_id", "special_token_ids")
    a, b = reference.manifest.tokenizer, variant.manifest.tokenizer
    different = [key for key in keys if a.get(key) != b.get(key)]
    if different:
        raise EdgeAuditError(f"{variant.directory / MANIFEST_NAME}: tokenizer.{different[0]} is {b[different[0]]!r}, "
                             f"the reference's is {a[different[0]]!r}", hint="both bundles must share one tokenizer")
