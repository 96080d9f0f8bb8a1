"""An extraction written to an output directory: ``activations/`` (the store) plus ``extraction.json``.

This is what ``edgeaudit extract`` runs; ``ExtractOptions`` maps one-to-one onto its command-line options.
A rerun with the same bundle, corpus and settings reuses both the store and the recorded attention
statistics without running the model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgeaudit.bundle import Bundle
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime.batching import BatchOptions
from edgeaudit.runtime.collectors import SpecialTokenMass
from edgeaudit.runtime.extract import extract, store_key
from edgeaudit.runtime.session import SessionOptions
from edgeaudit.runtime.store import STORE_FILE
from edgeaudit.runtime.summary import ExtractionSummary

EXTRACTION_FILE = "extraction.json"
STORE_DIR = "activations"
EXTRACTION_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ExtractOptions:
    threads: int | None = None
    batch_tokens: int = 2048
    pooling: str = "mean"
    optimization: str = "extended"
    shard_sentences: int | None = None
    overwrite: bool = False
    progress: bool = True

    def batch(self) -> BatchOptions:
        return BatchOptions(batch_tokens=self.batch_tokens)

    def session(self) -> SessionOptions:
        return SessionOptions(threads=self.threads, optimization=self.optimization)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _reusable(out_dir: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The previous report if it belongs to a complete store with the same key."""
    try:
        previous = json.loads((out_dir / EXTRACTION_FILE).read_text(encoding="utf-8"))
        meta = json.loads((out_dir / STORE_DIR / STORE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = previous.get("store_key") == key == meta.get("key") and meta.get("status") == "complete"
    return previous if same and previous.get("attention_mass") is not None else None


@dataclass(frozen=True)
class DirectoryExtraction:
    report: dict[str, Any]  # the content of extraction.json
    summary: ExtractionSummary
    path: Path  # extraction.json


def extract_to_directory(bundle: Bundle, sentences: Sequence[object], out_dir: str | Path,
                         options: ExtractOptions | None = None, *, data: dict[str, Any] | None = None
                         ) -> DirectoryExtraction:
    """Extract into ``out_dir`` and write ``extraction.json``.

    ``data`` describes the dataset (spec, reader skips) and is copied into the report.
    """
    options = options or ExtractOptions()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EdgeAuditError(f"{out_dir}: exists and is a file", hint="--out names a directory; choose another path")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent is a file, or no permission: bad input, not a crash
        blocker = next((str(p) for p in out_dir.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file" if blocker else exc.strerror
        raise EdgeAuditError(f"{out_dir}: cannot create the output directory ({reason})",
                             hint="choose another --out directory") from None
    key = store_key(bundle, sentences, pooling=options.pooling, shard_sentences=options.shard_sentences).to_dict()
    previous = None if options.overwrite else _reusable(out_dir, key)
    mass = SpecialTokenMass()
    summary = extract(
        bundle, sentences, collectors=[] if previous else [mass], store_dir=out_dir / STORE_DIR,
        batch=options.batch(), session=options.session(), pooling=options.pooling,
        shard_sentences=options.shard_sentences, overwrite=options.overwrite, progress=options.progress,
    )
    attention = previous["attention_mass"] if previous else _mass_dict(mass)
    report = {
        "schema": "edgeaudit.extraction",
        "schema_version": EXTRACTION_SCHEMA_VERSION,
        "bundle": {"directory": str(bundle.directory), "sha256": bundle.sha256, "variant": bundle.manifest.variant,
                   "num_layers": bundle.manifest.num_layers, "num_heads": bundle.manifest.num_heads},
        "data": data or {},
        "options": asdict(options),
        "summary": summary.to_dict(),
        "attention_mass": attention,
        "store_key": key,
        "reused": previous is not None and not (summary.store or {}).get("shards_written"),  # nothing recomputed
    }
    _write_json(out_dir / EXTRACTION_FILE, report)
    return DirectoryExtraction(report, summary, out_dir / EXTRACTION_FILE)


def _mass_dict(mass: SpecialTokenMass) -> dict[str, Any] | None:
    result = mass.result()
    return None if result is None else result.to_dict()
