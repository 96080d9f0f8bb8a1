"""Calibration data for ``int8-static``: sentences -> tokenised feed dicts -> a reader onnxruntime pulls from.

Deliberately independent of ``edgeaudit.runtime`` (word alignment is irrelevant here): a feed is just
``{"input_ids": int64 [batch, seq], "attention_mask": int64 [batch, seq], ...}`` for the bundle's inputs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from edgeaudit.bundle import Bundle
from edgeaudit.compress.errors import CompressError
from edgeaudit.errors import EdgeAuditError

Feed = dict[str, np.ndarray]

DEFAULT_LIMIT = 256  # sentences: min/max ranges settle long before this on sentence-length inputs
DEFAULT_BATCH_SIZE = 16


def configured_tokenizer(bundle: Bundle):
    """The bundle's tokenizer padding and truncating exactly as its manifest says the model expects."""
    settings = bundle.manifest.tokenizer
    tokenizer = bundle.load_tokenizer()
    pad_id = int(settings["pad_token_id"])
    tokenizer.enable_padding(direction=settings["padding_side"], pad_id=pad_id,
                             pad_token=tokenizer.id_to_token(pad_id) or "[PAD]")
    tokenizer.enable_truncation(max_length=int(settings["max_length"]))
    return tokenizer


def _batch_feed(tokenizer, sentences: Sequence[str], inputs: Sequence[str]) -> Feed:
    encodings = tokenizer.encode_batch(list(sentences))
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    available = {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        "position_ids": np.clip(np.cumsum(mask, axis=1) - 1, 0, None).astype(np.int64),
    }
    return {name: available[name] for name in inputs}


def feeds_from_sentences(bundle: Bundle, sentences: Iterable[str], *,
                         batch_size: int = DEFAULT_BATCH_SIZE) -> list[Feed]:
    """Tokenise ``sentences`` with the bundle's tokenizer into padded batches of model inputs."""
    tokenizer = configured_tokenizer(bundle)
    texts = [s for s in sentences if s.strip()]
    return [_batch_feed(tokenizer, texts[i:i + batch_size], bundle.manifest.inputs)
            for i in range(0, len(texts), batch_size)]


def _treebank_loader() -> Callable[[str], Any] | None:
    try:
        module = importlib.import_module("edgeaudit.data")
    except ImportError:
        return None
    return getattr(module, "load_treebank", None)


def _treebank_sentences(spec: str) -> list[str]:
    load_treebank = _treebank_loader()
    if load_treebank is None:
        raise CompressError(
            f"option --calibration: '{spec}' needs edgeaudit.data.load_treebank, which this installation lacks",
            hint="give a text file with one sentence per line instead",
        )
    treebank = load_treebank(spec)
    return [getattr(s, "text", None) or " ".join(s.words) for s in treebank.sentences]


def _text_file_sentences(spec: str) -> list[str]:
    path = Path(spec)
    if not path.exists():
        raise CompressError(f"option --calibration: {path}: no such file",
                            hint="give a text file with one sentence per line, or builtin:treebank")
    if not path.is_file():
        raise CompressError(f"option --calibration: {path}: is a directory, expected a text file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CompressError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return [line.strip() for line in lines if line.strip()]


def load_sentences(spec: str) -> list[str]:
    """Sentences named by ``--calibration``: ``builtin:NAME`` / ``*.conllu`` via the treebank loader,
    anything else as a UTF-8 text file with one sentence per line."""
    if spec.startswith("builtin:") or spec.lower().endswith(".conllu"):
        sentences = _treebank_sentences(spec)
    else:
        sentences = _text_file_sentences(spec)
    if not sentences:
        raise CompressError(f"option --calibration: {spec} holds no sentences", hint="calibration needs text")
    return sentences


class FeedReader(CalibrationDataReader):
    """Hands onnxruntime one feed dict per ``get_next()`` (None when done), checking each on the way."""

    def __init__(self, feeds: Iterable[Mapping[str, Any]], inputs: Sequence[str], *,
                 on_batch: Callable[[], None] | None = None):
        self._feeds: Iterator[Mapping[str, Any]] = iter(feeds)
        self._inputs = list(inputs)
        self._on_batch = on_batch
        self.batches = 0

    def get_next(self) -> Feed | None:
        feed = next(self._feeds, None)
        if feed is None:
            return None
        self.batches += 1
        if self._on_batch is not None:
            self._on_batch()
        return self._checked(feed)

    def _checked(self, feed: Mapping[str, Any]) -> Feed:
        if not isinstance(feed, Mapping):
            raise CompressError(f"calibration batch {self.batches}: expected a dict of model inputs, "
                                f"got {type(feed).__name__}")
        missing = [name for name in self._inputs if name not in feed]
        if missing:
            raise CompressError(f"calibration batch {self.batches}: lacks model input(s) {', '.join(missing)}")
        arrays = {name: np.asarray(feed[name]) for name in self._inputs}
        for name, array in arrays.items():
            if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
                raise CompressError(f"calibration batch {self.batches}: '{name}' must be an integer "
                                    f"[batch, seq] array, got {array.dtype} {list(array.shape)}")
        return {name: array.astype(np.int64, copy=False) for name, array in arrays.items()}


def calibration_feeds(bundle: Bundle, calibration: Any, *, limit: int = DEFAULT_LIMIT,
                      batch_size: int = DEFAULT_BATCH_SIZE) -> tuple[list[Feed] | Iterable[Any], dict[str, Any]]:
    """Feeds for ``calibration`` (a spec, a list of sentences, or feed dicts) and a record for the manifest."""
    if calibration is None:
        raise CompressError("preset int8-static needs calibration data: option --calibration is required",
                            hint="pass --calibration builtin:treebank or a text file with one sentence per line")
    if isinstance(calibration, (str, Path)):
        spec = str(calibration)
        try:
            sentences = load_sentences(spec)
        except EdgeAuditError as error:
            if isinstance(error, CompressError):
                raise
            raise CompressError(f"option --calibration: {error.one_line()}") from None  # treebank errors
        used = sentences[:limit]
        record = {"source": spec, "sentences": len(used), "sentences_available": len(sentences),
                  "batch_size": batch_size}
        return feeds_from_sentences(bundle, used, batch_size=batch_size), record
    items = list(calibration)
    if items and all(isinstance(item, str) for item in items):
        used = items[:limit]
        record = {"source": "sentences (library call)", "sentences": len(used), "batch_size": batch_size}
        return feeds_from_sentences(bundle, used, batch_size=batch_size), record
    if not items:
        raise CompressError("calibration data is empty", hint="give at least one sentence or feed dict")
    return items, {"source": "feed dicts (library call)", "batches": len(items)}
