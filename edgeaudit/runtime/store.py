"""On-disk store of word-level hidden states, written in shards so an interrupted run resumes.

Layout of a store directory::

    store.json                      key (bundle sha256, corpus hash, settings), status, shapes
    shard_00000/layer_00.npy ...    float32 [word, hidden] per layer (0 = embeddings), one shard of sentences
    shard_00000/shard.json          sentence ids, input positions, word offsets, skips, file sizes
    index.json                      all shards' records, written when the store is complete

Every file is written to a temporary name and moved into place with ``os.replace``; ``shard.json`` comes
last, so a shard is complete exactly when its record exists and every layer file has the recorded size.
On reopening, the longest run of complete shards is kept and everything after it is redone; a store with
another key is refused (it would mix activations of different models or corpora).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeaudit.errors import EdgeAuditError

STORE_FORMAT = 1
STORE_FILE = "store.json"
INDEX_FILE = "index.json"
SHARD_FILE = "shard.json"


class StoreError(EdgeAuditError):
    """An activation store cannot be used as asked (another key, not a store, incomplete)."""


@dataclass(frozen=True)
class StoreKey:
    """What the stored activations depend on; a store is reused only under the same key."""

    bundle_sha256: str
    corpus_sha256: str
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"bundle_sha256": self.bundle_sha256, "corpus_sha256": self.corpus_sha256,
                "settings": dict(sorted(self.settings.items())), "format": STORE_FORMAT}

    def differences(self, other: dict[str, Any]) -> list[str]:
        mine = self.to_dict()
        return [name for name in mine if mine[name] != other.get(name)]


@dataclass
class ShardRecord:
    """One shard's sentences: ``word_offsets[i]:word_offsets[i+1]`` are sentence i's rows in its files."""

    shard: int
    sentence_ids: list[str]
    sentence_index: list[int]  # positions in the extraction input
    word_offsets: list[int]  # [sentence + 1], starting at 0 within the shard
    tokens: int
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {index, sent_id, kind, reason}
    file_bytes: list[int] = field(default_factory=list)  # size of layer_XX.npy, per layer

    @property
    def n_words(self) -> int:
        return self.word_offsets[-1]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _write_npy(path: Path, array: np.ndarray) -> int:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path.stat().st_size


def _read_meta(path: Path) -> dict[str, Any] | None:
    """A store's JSON object, or None when the file is unreadable or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _load_layer(path: Path, words: int, hidden_size: int) -> np.ndarray:
    """One shard's float32 [word, hidden] file, memory-mapped; never unpickles, never trusts the shape."""
    try:
        values = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:  # missing, truncated, or an object (pickle) array
        raise StoreError(f"{path}: unreadable activation file ({str(exc).splitlines()[0]})",
                         hint="rerun extract with --overwrite to redo the store") from None
    if values.dtype != np.float32 or values.shape != (words, hidden_size):
        raise StoreError(f"{path}: holds {values.dtype} {values.shape}, expected float32 ({words}, {hidden_size})",
                         hint="rerun extract with --overwrite to redo the store")
    return values


def _shard_dir(directory: Path, shard: int) -> Path:
    return directory / f"shard_{shard:05d}"


def _layer_file(directory: Path, shard: int, layer: int) -> Path:
    return _shard_dir(directory, shard) / f"layer_{layer:02d}.npy"


def _read_shard(directory: Path, shard: int, num_layers: int) -> ShardRecord | None:
    """The shard's record if the shard is complete on disk, else None."""
    try:
        record = ShardRecord(**json.loads((_shard_dir(directory, shard) / SHARD_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if record.shard != shard or len(record.file_bytes) != num_layers:
        return None
    for layer, size in enumerate(record.file_bytes):
        path = _layer_file(directory, shard, layer)
        if not path.is_file() or path.stat().st_size != size:
            return None
    return record


class ActivationStore:
    """The writing side: open (create / reuse / resume), ``write_shard`` in order, ``finish``."""

    def __init__(self, directory: Path, key: StoreKey, num_layers: int, hidden_size: int,
                 done: list[ShardRecord], complete: bool):
        self.directory = directory
        self.key = key
        self.num_layers = num_layers  # stored hidden-state layers (model layers + 1)
        self.hidden_size = hidden_size
        self.done = done
        self.complete = complete

    @classmethod
    def open(cls, directory: str | Path, key: StoreKey, *, num_layers: int, hidden_size: int,
             overwrite: bool = False) -> ActivationStore:
        directory = Path(directory)
        meta_path = directory / STORE_FILE
        if directory.exists() and not directory.is_dir():
            raise StoreError(f"{directory}: is a file, expected an activation store directory")
        if directory.is_dir() and not meta_path.is_file() and _half_created(directory):
            _clear(directory)  # a creation that failed before store.json: nothing in it can be trusted or resumed
        if directory.is_dir() and not meta_path.is_file() and any(directory.iterdir()):
            raise StoreError(f"{directory}: exists and is not an activation store (no {STORE_FILE})",
                             hint="choose an empty or new directory")
        if meta_path.is_file():
            meta = _read_meta(meta_path)
            if meta is None and not overwrite:
                raise StoreError(f"{meta_path}: is damaged (not a JSON object)",
                                 hint="pass --overwrite to redo the extraction, or choose another output directory")
            meta = meta or {}
            differs = key.differences(meta.get("key", {}) if isinstance(meta.get("key"), dict) else {})
            if differs and not overwrite:
                raise StoreError(
                    f"{meta_path}: holds activations for a different {', '.join(differs)} than this run",
                    hint="pass --overwrite to replace them, or choose another output directory",
                )
            if differs or overwrite:
                _clear(directory)
            else:
                return cls._resume(directory, key, meta, num_layers, hidden_size)
        store = cls(directory, key, num_layers, hidden_size, [], False)
        store._create()
        return store

    def _create(self) -> None:
        """Make the store directory with its store.json in one step: built beside, then renamed into place.

        An interruption leaves either no store or an empty one under the final name; a leftover build
        directory is recognisable by its name and removed by the next creation.
        """
        parent, name = self.directory.parent, self.directory.name
        parent.mkdir(parents=True, exist_ok=True)
        if self.directory.is_dir() and any(self.directory.iterdir()):  # the caller's own files stay: write in place
            self._write_meta("in-progress")
            return
        for stale in parent.glob(f".{name}.creating-*"):
            shutil.rmtree(stale, ignore_errors=True)
        build = Path(tempfile.mkdtemp(prefix=f".{name}.creating-", dir=parent))
        try:
            _write_json(build / STORE_FILE, self._meta("in-progress"))
            if self.directory.is_dir():
                self.directory.rmdir()  # empty (or emptied by _clear): rename needs it gone or empty
            os.rename(build, self.directory)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise

    @classmethod
    def _resume(cls, directory: Path, key: StoreKey, meta: dict[str, Any], num_layers: int,
                hidden_size: int) -> ActivationStore:
        done: list[ShardRecord] = []
        while (record := _read_shard(directory, len(done), num_layers)) is not None:
            done.append(record)
        complete = (meta.get("status") == "complete" and len(done) == int(meta.get("shards", -1))
                    and (directory / INDEX_FILE).is_file())
        for stale in sorted(directory.glob("shard_*")):  # a half-written shard and anything after it
            if stale.is_dir() and int(stale.name.split("_")[1]) >= len(done):
                shutil.rmtree(stale)
        store = cls(directory, key, num_layers, hidden_size, done, complete)
        if not complete:
            store._write_meta("in-progress")
        return store

    def _meta(self, status: str) -> dict[str, Any]:
        return {"schema": "edgeaudit.activation-store", "key": self.key.to_dict(), "status": status,
                "num_layers": self.num_layers, "hidden_size": self.hidden_size, "shards": len(self.done)}

    def _write_meta(self, status: str) -> None:
        _write_json(self.directory / STORE_FILE, self._meta(status))

    def write_shard(self, record: ShardRecord, layers: list[np.ndarray]) -> None:
        """Write shard ``record.shard`` (the next one): ``layers[l]`` is float32 [word, hidden]."""
        if record.shard != len(self.done):
            raise ValueError(f"shard {record.shard} written out of order (next is {len(self.done)})")
        if len(layers) != self.num_layers:
            raise ValueError(f"shard has {len(layers)} layers, the store {self.num_layers}")
        shard_dir = _shard_dir(self.directory, record.shard)
        shard_dir.mkdir(exist_ok=True)
        record.file_bytes = []
        for layer, values in enumerate(layers):
            if values.shape != (record.n_words, self.hidden_size):
                raise ValueError(f"layer {layer}: shape {values.shape}, expected ({record.n_words}, {self.hidden_size})")
            record.file_bytes.append(_write_npy(_layer_file(self.directory, record.shard, layer), values))
        _write_json(shard_dir / SHARD_FILE, asdict(record))
        self.done.append(record)

    def finish(self) -> None:
        """Write the index of all shards and mark the store complete."""
        index = {"shards": [asdict(record) for record in self.done]}
        _write_json(self.directory / INDEX_FILE, index)
        self._write_meta("complete")
        self.complete = True


def _half_created(directory: Path) -> bool:
    """True when every entry is a store's own file (a creation or overwrite stopped before store.json)."""
    own = {INDEX_FILE, INDEX_FILE + ".tmp", STORE_FILE + ".tmp"}
    entries = list(directory.iterdir())
    return bool(entries) and all(p.name in own or (p.is_dir() and p.name.startswith("shard_")) for p in entries)


def _clear(directory: Path) -> None:
    """Remove a store's own files (never anything else in the directory)."""
    for path in directory.glob("shard_*"):
        if path.is_dir():
            shutil.rmtree(path)
    for name in (INDEX_FILE, STORE_FILE, INDEX_FILE + ".tmp", STORE_FILE + ".tmp"):
        (directory / name).unlink(missing_ok=True)


class StoredActivations:
    """The reading side of a complete store: layers as [total_words, hidden] plus word offsets."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        meta_path = self.directory / STORE_FILE
        if not meta_path.is_file():
            raise StoreError(f"{self.directory}: not an activation store (no {STORE_FILE})")
        meta = _read_meta(meta_path)
        if meta is None:
            raise StoreError(f"{meta_path}: is damaged (not a JSON object)", hint="rerun extract with --overwrite")
        self.meta = meta
        if self.meta.get("status") != "complete":
            raise StoreError(f"{meta_path}: the extraction did not finish", hint="rerun extract to resume it")
        index = _read_meta(self.directory / INDEX_FILE)
        try:
            self.shards = [ShardRecord(**record) for record in index["shards"]]  # type: ignore[index]
        except (TypeError, KeyError):
            raise StoreError(f"{self.directory / INDEX_FILE}: missing or damaged",
                             hint="rerun extract with --overwrite") from None
        self.num_layers = int(self.meta["num_layers"])
        self.hidden_size = int(self.meta["hidden_size"])
        self.sentence_ids = [sid for record in self.shards for sid in record.sentence_ids]
        self.sentence_index = [i for record in self.shards for i in record.sentence_index]
        lengths = [np.diff(record.word_offsets) for record in self.shards]
        self.word_offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths or [[]]))]).astype(np.int64)

    @property
    def key(self) -> dict[str, Any]:
        return dict(self.meta["key"])

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return [skip for record in self.shards for skip in record.skipped]

    def shard_layer(self, record: ShardRecord, layer: int) -> np.ndarray:
        """Memory-mapped float32 [word, hidden] of one shard at ``layer``."""
        return _load_layer(_layer_file(self.directory, record.shard, layer), record.n_words, self.hidden_size)

    def iter_layer(self, layer: int) -> Iterator[tuple[ShardRecord, np.ndarray]]:
        """(record, memory-mapped float32 [word, hidden]) shard by shard: constant memory."""
        for record in self.shards:
            yield record, self.shard_layer(record, layer)

    def layer(self, layer: int) -> np.ndarray:
        """Hidden states of ``layer`` for every word, [total_words, hidden] (memory-mapped if one shard)."""
        if not 0 <= layer < self.num_layers:
            raise IndexError(f"layer {layer} is outside 0..{self.num_layers - 1}")
        parts = [values for _, values in self.iter_layer(layer)]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, self.hidden_size), np.float32)

    def sentence(self, position: int, layer: int) -> np.ndarray:
        """Hidden states [word, hidden] of the ``position``-th stored sentence at ``layer`` (reads one shard)."""
        if not 0 <= position < len(self.sentence_ids):
            raise IndexError(f"sentence {position} is outside 0..{len(self.sentence_ids) - 1}")
        starts = np.cumsum([0] + [len(record.sentence_ids) for record in self.shards])
        shard = int(np.searchsorted(starts, position, side="right")) - 1
        record, local = self.shards[shard], position - int(starts[shard])
        values = _load_layer(_layer_file(self.directory, record.shard, layer), record.n_words, self.hidden_size)
        return np.array(values[record.word_offsets[local]:record.word_offsets[local + 1]])
