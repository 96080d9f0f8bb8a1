"""Stage checkpoints of an audit: ``OUT/stages/<stage>.json`` (+ ``.npz``), so an interrupted audit resumes.

Each finished stage writes its result under a key (a hash of what the stage depends on: bundle sha256, corpus
hash, the stage's options, seed, the keys of the stages it reads). A rerun with the same key loads the result
instead of recomputing it; any other key recomputes it. The result objects are written as JSON plus one
``.npz`` of their arrays (never pickle: a checkpoint is data, and only the classes listed in ``_CLASSES`` are
rebuilt from it). Both files go to temporary names first; the JSON, written last, marks the stage done.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINT_FORMAT = 2  # 2: structural layers and the property stage carry their fitted probes
STAGES_DIR = "stages"


def _classes() -> dict[str, type]:
    """The result types a checkpoint may hold (imported lazily: the probes pull in scipy/sklearn)."""
    from edgeaudit.audit.fitted import FittedState, PropertyFit, StructuralFit
    from edgeaudit.audit.relational import FrozenInstances, RelationalStatistics, RolloutCurve
    from edgeaudit.audit.structural import LayerStructural, SentenceSplit, StructuralResult
    from edgeaudit.probes.attention_heads import HeadRelationAccuracy
    from edgeaudit.probes.attention_trees import AttentionTreeUUAS
    from edgeaudit.probes.tree_baselines import TreeBaselineCounts
    from edgeaudit.runtime.collectors import AttentionMass
    from edgeaudit.runtime.corpus import SentenceInput
    from edgeaudit.runtime.summary import ExtractionSummary, SkippedSentence
    from edgeaudit.verdict import Claim, ControlScore

    kinds = (FrozenInstances, RelationalStatistics, RolloutCurve, LayerStructural, SentenceSplit, StructuralResult,
             AttentionMass, ExtractionSummary, SkippedSentence, Claim, ControlScore, HeadRelationAccuracy,
             AttentionTreeUUAS, TreeBaselineCounts, FittedState, StructuralFit, PropertyFit, SentenceInput)
    return {f"{kind.__module__}.{kind.__qualname__}": kind for kind in kinds}


class _Encoder:
    """Python/numpy values -> JSON-able data; arrays go to ``arrays`` under generated names."""

    def __init__(self, classes: dict[str, type]):
        self.classes = {kind: name for name, kind in classes.items()}
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic):
            return value
        if isinstance(value, np.generic):
            return {"__np__": value.dtype.str, "v": value.item()}
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                return {"__objarray__": self(value.tolist()), "shape": list(value.shape)}
            name = f"a{len(self.arrays)}"
            self.arrays[name] = value
            return {"__array__": name}
        if isinstance(value, np.random.Generator):
            return {"__rng__": value.bit_generator.state}
        if isinstance(value, tuple):
            return {"__tuple__": [self(v) for v in value]}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {"__map__": [[self(k), self(v)] for k, v in value.items()]}
        name = self.classes.get(type(value))
        if name is None:
            raise TypeError(f"checkpoint cannot hold a {type(value).__qualname__}")
        return {"__object__": name, "state": self(dict(vars(value)))}


class _Decoder:
    def __init__(self, classes: dict[str, type], arrays: Any):
        self.classes, self.arrays = classes, arrays

    def __call__(self, data: Any) -> Any:
        if isinstance(data, list):
            return [self(v) for v in data]
        if not isinstance(data, dict):
            return data
        if "__np__" in data:
            return np.dtype(data["__np__"]).type(data["v"])
        if "__objarray__" in data:
            out = np.empty(len(data["__objarray__"]), dtype=object)
            out[:] = self(data["__objarray__"])
            return out.reshape(data["shape"])
        if "__array__" in data:
            return np.array(self.arrays[data["__array__"]])
        if "__rng__" in data:
            rng = np.random.default_rng()
            rng.bit_generator.state = data["__rng__"]
            return rng
        if "__tuple__" in data:
            return tuple(self(v) for v in data["__tuple__"])
        if "__map__" in data:
            return {self(k): self(v) for k, v in data["__map__"]}
        kind = self.classes[data["__object__"]]  # KeyError: not a class a checkpoint may hold
        obj = kind.__new__(kind)
        obj.__dict__.update(self(data["state"]))
        return obj


def write_encoded(meta_path: Path, array_path: Path, header: dict[str, Any], result: Any) -> None:
    """``result`` as ``header`` + its encoded JSON in ``meta_path`` and its arrays in ``array_path``. The arrays go
    first and the JSON last, each through a temporary name, so a present JSON means both files are complete."""
    encoder = _Encoder(_classes())
    data = {**header, "result": encoder(result)}
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)  # not done while its arrays are being replaced
    tmp_arrays = array_path.with_name(array_path.name + ".tmp.npz")
    with open(tmp_arrays, "wb") as handle:
        np.savez(handle, allow_pickle=False, **encoder.arrays)
    os.replace(tmp_arrays, array_path)
    tmp_meta = meta_path.with_name(meta_path.name + ".tmp")
    tmp_meta.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp_meta, meta_path)


def read_encoded(meta_path: Path, array_path: Path) -> tuple[dict[str, Any], Any]:
    """(header, result) written by ``write_encoded`` (OSError/ValueError/KeyError/TypeError when missing or damaged;
    arrays are read without pickle, and only the classes ``_classes`` lists are rebuilt)."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_path}: not a JSON object")
    with np.load(array_path, allow_pickle=False) as arrays:
        return meta, _Decoder(_classes(), arrays)(meta["result"])


def stage_key(**parts: Any) -> str:
    """sha256 of what a stage depends on (JSON of ``parts`` with sorted keys)."""
    text = json.dumps({"format": CHECKPOINT_FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Checkpoints:
    """Load-or-compute for the stages of one audit output directory."""

    def __init__(self, out_dir: Path):
        self.directory = Path(out_dir) / STAGES_DIR
        self.resumed: list[str] = []
        self.computed: list[str] = []

    def _paths(self, stage: str) -> tuple[Path, Path]:
        return self.directory / f"{stage}.json", self.directory / f"{stage}.npz"

    def load_key(self, stage: str) -> str | None:
        """The key ``stage`` last finished under, or None."""
        try:
            meta = json.loads(self._paths(stage)[0].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return meta.get("key") if isinstance(meta, dict) else None

    def load(self, stage: str, key: str) -> tuple[bool, Any]:
        """(True, result) when ``stage`` finished before under ``key``; (False, None) otherwise."""
        try:
            meta, result = read_encoded(*self._paths(stage))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing or damaged: recompute
            return False, None
        return (True, result) if meta.get("key") == key else (False, None)

    def save(self, stage: str, key: str, result: Any) -> None:
        write_encoded(*self._paths(stage), {"stage": stage, "key": key}, result)

    def run(self, stage: str, key: str, compute: Callable[[], Any], *,
            valid: Callable[[], bool] = lambda: True) -> Any:
        """The stage's result: loaded when it finished before under ``key`` (and ``valid()`` says what it left
        on disk is still there), else computed and saved."""
        done, result = self.load(stage, key)
        if done and valid():
            self.resumed.append(stage)
            return result
        result = compute()
        self.save(stage, key, result)
        self.computed.append(stage)
        return result

