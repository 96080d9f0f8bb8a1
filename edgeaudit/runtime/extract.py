"""``extract``: a corpus through a bundle, streamed into collectors and an on-disk activation store.

The corpus is processed in chunks of ``shard_sentences`` sentences in input order. Within a chunk the
sentences are aligned, length-bucketed into batches and run; each batch is pooled to word level, handed to
every collector and dropped. Word hidden states of a chunk are copied, in input order, into one shard buffer
that is reused from chunk to chunk, and written from it as one store shard. Memory is bounded by one chunk of
word hidden states plus one batch of attention, whatever the corpus size; reusing the buffer (instead of
keeping every sentence's array and concatenating them per layer) also keeps the allocator from holding a
second chunk's worth of freed memory, which made peak RSS creep up with the number of chunks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence, Sized
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from threadpoolctl import threadpool_limits

from edgeaudit.bundle import Bundle, sha256_of
from edgeaudit.errors import EdgeAuditError
from edgeaudit.runtime.alignment import WordTokenizer
from edgeaudit.runtime.batching import BatchOptions
from edgeaudit.runtime.collectors import ATTENTION, HIDDEN_STATES, WordBatch, WordSentence, collector_needs
from edgeaudit.runtime.corpus import SentenceInput, StreamedCorpus, as_sentences, corpus_sha256, iter_chunks
from edgeaudit.runtime.padded import PaddedBatch, align_sentences, padded_batches
from edgeaudit.runtime.progress import progress_bar
from edgeaudit.runtime.session import ModelSession, SessionOptions, available_cores
from edgeaudit.runtime.store import ActivationStore, ShardRecord, StoreKey
from edgeaudit.runtime.summary import ExtractionSummary, SkippedSentence
from edgeaudit.runtime.words import POOLINGS, word_attention, word_hidden

CHUNK_WITHOUT_STORE = 1024  # sentences bucketed together when nothing is written to disk


def default_shard_sentences(num_layers: int, hidden_size: int, shard_mb: float = 64.0) -> int:
    """Sentences per shard so one shard of word hidden states is about ``shard_mb`` (at ~32 words each)."""
    per_sentence = (num_layers + 1) * hidden_size * 4 * 32
    return int(np.clip(shard_mb * 2**20 // per_sentence, 16, 1024))


@dataclass
class _ChunkResult:
    skipped: list[SkippedSentence] = field(default_factory=list)
    word_start: dict[int, int] = field(default_factory=dict)  # input index -> its first row in ``hidden``
    hidden: np.ndarray | None = None  # [layer, word, hidden]: the chunk's words in input order (a buffer view)
    tokens: dict[int, int] = field(default_factory=dict)  # input index -> subtokens
    batches: int = 0


class _Runner:
    """Aligns, batches, runs and pools one chunk at a time."""

    def __init__(self, bundle: Bundle, words: WordTokenizer, session: SessionOptions, batch: BatchOptions,
                 pooling: str, progress):
        self.bundle, self.words, self.batch, self.pooling, self.progress = bundle, words, batch, pooling, progress
        self.session_options = session
        self._session: ModelSession | None = None
        manifest = bundle.manifest
        self.pad_id = int(manifest.tokenizer["pad_token_id"])
        self.attention_taps, self.hidden_taps = manifest.attention_taps, manifest.hidden_state_taps
        self.heads_x_layers = manifest.num_layers * manifest.num_heads
        self.hidden_size = manifest.hidden_size
        self._buffer: np.ndarray | None = None  # [layer, word capacity, hidden], reused by every chunk
        self._executor: ThreadPoolExecutor | None = None  # runs the next batch's forward (``BatchOptions.overlap``)

    def close(self) -> None:
        """Close the session if one was opened (its memory goes back before the caller's next stage)."""
        self._buffer = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def session(self) -> ModelSession:
        if self._session is None:  # opened on first use: a reused store needs no model at all
            self._session = ModelSession(self.bundle, self.session_options,
                                         fetches=[*self.attention_taps, *self.hidden_taps])
        return self._session

    def run_chunk(self, chunk: Sequence[SentenceInput], start: int, collectors: Sequence[object],
                  needs: frozenset[str], keep_hidden: bool) -> _ChunkResult:
        result = _ChunkResult()
        aligned = align_sentences(self.words, chunk, start=start, skipped=result.skipped,
                                  on_skip=lambda _: self.progress.update(1))
        if keep_hidden:
            starts = np.concatenate([[0], np.cumsum([s.alignment.n_words for s in aligned])]).astype(int)
            result.word_start = {s.index: int(row) for s, row in zip(aligned, starts[:-1], strict=True)}
            result.hidden = self._shard_buffer(int(starts[-1]))
        cost = self.heads_x_layers if ATTENTION in needs else 0
        names = self._tap_names(needs) or self.hidden_taps[:1]  # a run must fetch something

        def consume(padded: PaddedBatch, outputs: dict[str, np.ndarray]) -> None:
            batch = self._pool(padded, outputs, chunk, start, needs)
            for collector in collectors:
                collector.update(batch)
            for sentence in batch:
                result.tokens[sentence.index] = sentence.n_tokens
                if keep_hidden:
                    row = result.word_start[sentence.index]
                    result.hidden[:, row:row + sentence.hidden.shape[1]] = sentence.hidden
            result.batches += 1
            self.progress.update(len(batch))

        batches = padded_batches(aligned, self._in_flight_budget(), self.pad_id, attention_floats_per_seq2=cost)
        if not self.batch.overlap:
            for padded in batches:
                consume(padded, self.session.run(padded.input_ids, padded.attention_mask, names))
            return result
        # The next batch's forward runs on a helper thread (onnxruntime releases the GIL) while this thread pools
        # the previous batch and feeds the collectors, so that work leaves the forward's critical path.
        session = self.session
        pending: tuple[PaddedBatch, Future] | None = None
        try:
            for padded in batches:
                following = (padded, self._forward_thread().submit(
                    session.run, padded.input_ids, padded.attention_mask, names))
                if pending is not None:
                    consume(pending[0], pending[1].result())
                pending = following
            if pending is not None:
                consume(pending[0], pending[1].result())
                pending = None
        finally:
            if pending is not None:  # an error while pooling: let the forward in flight finish before closing
                wait([pending[1]])
        return result

    def _tap_names(self, needs: frozenset[str]) -> list[str]:
        """The graph outputs a batch's collectors (and the store) need."""
        return ((self.attention_taps if ATTENTION in needs else [])
                + (self.hidden_taps if HIDDEN_STATES in needs else []))

    def _in_flight_budget(self) -> BatchOptions:
        """The batch budgets: with overlap two batches' taps are alive at once (one pooled, one computed), so each
        gets half, and the memory of the taps in flight stays what ``batch_tokens`` and ``attention_mb`` promise."""
        if not self.batch.overlap:
            return self.batch
        return replace(self.batch, batch_tokens=max(1, self.batch.batch_tokens // 2),
                       attention_mb=self.batch.attention_mb / 2)

    def _forward_thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgeaudit-forward")
        return self._executor

    def _shard_buffer(self, words: int) -> np.ndarray:
        """A ``[layer, words, hidden]`` float32 view of the reused buffer (grown when a chunk needs more)."""
        layers = len(self.hidden_taps)
        if self._buffer is None or self._buffer.shape[1] < words:
            self._buffer = None  # free the old one before allocating the new one
            self._buffer = np.empty((layers, max(words + words // 8, 1), self.hidden_size), dtype=np.float32)
        return self._buffer[:, :words]

    def _pool(self, padded: PaddedBatch, outputs: dict[str, np.ndarray], chunk: Sequence[SentenceInput],
              start: int, needs: frozenset[str]) -> WordBatch:
        """One batch's taps pooled to word level, sentence by sentence."""
        names = self._tap_names(needs)
        sentences = []
        for row, aligned in enumerate(padded.sentences):
            index, alignment = aligned.index, aligned.alignment
            n, source = alignment.n_tokens, chunk[index - start]
            _check_finite(outputs, names, row, n, source.sent_id, self.bundle)
            attention = special = hidden = None
            if ATTENTION in needs:
                tokens = np.stack([outputs[name][row, :, :n, :n] for name in self.attention_taps])  # [layer, head, q, k]
                attention, special = word_attention(tokens, alignment.word_of_token, alignment.n_words)
            if HIDDEN_STATES in needs:
                states = np.stack([outputs[name][row, :n] for name in self.hidden_taps])  # [layer, token, hidden]
                hidden = word_hidden(states, alignment.word_of_token, alignment.n_words, self.pooling)
            sentences.append(WordSentence(index, source.sent_id, list(source.words), n, attention, special, hidden))
        return WordBatch(sentences)


def _check_finite(outputs: dict[str, np.ndarray], names: list[str], row: int, n: int, sent_id: str,
                  bundle: Bundle) -> None:
    """Refuse a sentence whose taps hold NaN/inf: stored or averaged, it would poison every statistic silently.

    A graph that overflows on real input is a broken model or variant (often fp16), not a property of one
    sentence, so the run stops and names the first tap and sentence instead of skipping.
    """
    for name in names:
        output = outputs[name]
        values = output[row, :, :n, :n] if output.ndim == 4 else output[row, :n]  # attention or hidden state
        if not np.isfinite(values).all():
            kind = "NaN" if np.isnan(values).any() else "inf"
            raise EdgeAuditError(
                f"{bundle.directory}: tap {name} gave {kind} values for sentence {sent_id!r}",
                hint="the graph overflows on this input; check the export or use a wider-precision variant")


def _shard_record(shard: int, chunk: Sequence[SentenceInput], start: int, result: _ChunkResult,
                  num_layers: int, hidden_size: int) -> tuple[ShardRecord, list[np.ndarray]]:
    """The chunk's extracted sentences in input order: record plus per-layer [word, hidden] arrays (views of the
    chunk's buffer: contiguous, written before the next chunk reuses it)."""
    order = sorted(result.word_start)
    words = 0 if result.hidden is None else result.hidden.shape[1]
    offsets = [result.word_start[i] for i in order] + [words]
    record = ShardRecord(
        shard=shard, sentence_ids=[chunk[i - start].sent_id for i in order], sentence_index=order,
        word_offsets=offsets, tokens=sum(result.tokens.values()),
        skipped=[asdict(skip) for skip in result.skipped],
    )
    if not order or result.hidden is None:  # every sentence of the chunk was skipped
        return record, [np.zeros((0, hidden_size), np.float32) for _ in range(num_layers)]
    return record, [result.hidden[layer] for layer in range(result.hidden.shape[0])]


def _resumed_sentences(store, collectors: Sequence[object], chunk_size: int, total: int) -> int:
    """Sentences in finished shards that will not be rerun: where a resumed run's progress bar starts."""
    if store is None or collectors:  # collectors rerun every shard, so the bar counts them again
        return 0
    return min(len(store.done) * chunk_size, total)


def _store_key(bundle: Bundle, sentences: list[SentenceInput], words: WordTokenizer, pooling: str,
               shard_sentences: int) -> StoreKey:
    settings = {"pooling": pooling, "shard_sentences": shard_sentences, "max_length": words.max_length,
                "tokenizer_sha256": sha256_of(bundle.tokenizer_path), "word_prefix": words.strategy}
    if words.prefix is not None:  # only when set, so stores of encoders keep their keys
        settings["prefix_token"] = words.prefix_token
    return StoreKey(bundle.sha256, corpus_sha256(sentences), settings)


def store_key(bundle: Bundle, sentences: Iterable[object], *, pooling: str = "mean",
              shard_sentences: int | None = None) -> StoreKey:
    """The key an extraction of ``sentences`` with these settings gives its store (to check for reuse)."""
    manifest = bundle.manifest
    shard_sentences = shard_sentences or default_shard_sentences(manifest.num_layers, manifest.hidden_size)
    corpus = sentences if isinstance(sentences, StreamedCorpus) else as_sentences(sentences)
    return _store_key(bundle, corpus, WordTokenizer.from_bundle(bundle), pooling, shard_sentences)


def extract(
    bundle: Bundle,
    sentences: Iterable[object],
    *,
    collectors: Sequence[object] = (),
    store_dir=None,
    batch: BatchOptions | None = None,
    session: SessionOptions | None = None,
    pooling: str = "mean",
    shard_sentences: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    max_shards: int | None = None,
    label: str = "extract",
) -> ExtractionSummary:
    """Run ``sentences`` (objects with ``sent_id``/``words`` or ``(id, words)`` pairs) through ``bundle``.

    Every collector sees every extracted sentence once. With ``store_dir`` the word hidden states of every
    layer are written to an activation store, reused when complete and resumed when interrupted; with
    ``max_shards`` the run stops after writing that many new shards (a time-boxed or test run). ``label``
    names the progress bar (an audit extracts its model, twin and nonce corpus one after another).
    """
    if pooling not in POOLINGS:
        raise EdgeAuditError(f"option --pooling: {pooling!r} is not one of {', '.join(POOLINGS)}")
    began = time.perf_counter()
    # a StreamedCorpus is read chunk by chunk (memory flat in the corpus size); anything else is a list
    corpus = sentences if isinstance(sentences, StreamedCorpus) else as_sentences(sentences)
    words = WordTokenizer.from_bundle(bundle)
    manifest = bundle.manifest
    shard_sentences = shard_sentences or default_shard_sentences(manifest.num_layers, manifest.hidden_size)
    store = None
    if store_dir is not None:
        key = _store_key(bundle, corpus, words, pooling, shard_sentences)
        store = ActivationStore.open(store_dir, key, num_layers=manifest.num_layers + 1,
                                     hidden_size=manifest.hidden_size, overwrite=overwrite)
    chunk_size = shard_sentences if store is not None else CHUNK_WITHOUT_STORE
    settings = {"pooling": pooling, "shard_sentences": shard_sentences if store else None,
                "word_prefix": words.strategy, "word_prefix_verified": words.verified,
                "prefix_token": words.prefix_token,
                "batch_tokens": (batch or BatchOptions()).batch_tokens, "max_length": words.max_length}
    resumed = _resumed_sentences(store, collectors, chunk_size, len(corpus))
    with progress_bar(len(corpus), label, progress, initial=resumed) as bar:
        runner = _Runner(bundle, words, session or SessionOptions(), batch or BatchOptions(), pooling, bar)
        settings["threads"] = runner.session_options.threads or available_cores()
        # onnxruntime owns the cores; numpy's small per-sentence pooling matmuls only contend with it
        # (benchmarks/experiments.py: extraction 1.17x faster with BLAS held to one thread).
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                tally = _run_chunks(corpus, chunk_size, runner, collectors, store, max_shards)
        finally:
            runner.close()
    if store is not None and not tally.stopped and not store.complete:
        store.finish()
    return tally.summary(corpus, time.perf_counter() - began, settings, store)


def _run_chunks(corpus: Iterable[SentenceInput], chunk_size: int, runner: _Runner, collectors: Sequence[object],
                store: ActivationStore | None, max_shards: int | None) -> _Tally:
    """The chunk loop: reuse finished shards, run the rest, write each new chunk as the next shard."""
    collector_union = frozenset().union(*(collector_needs(c) for c in collectors))
    tally = _Tally()
    for shard, (start, chunk) in enumerate(iter_chunks(corpus, chunk_size)):
        reused = store is not None and shard < len(store.done)
        if reused and not collectors:  # nothing to compute: counts come from the shard's record
            tally.add_record(store.done[shard])  # already counted in the bar's starting point
            continue
        if max_shards is not None and tally.shards_written >= max_shards and not reused:
            tally.stopped = True
            break
        write = store is not None and not reused  # a reused shard is rerun for the collectors only
        needs = collector_union | (frozenset({HIDDEN_STATES}) if write else frozenset())
        result = runner.run_chunk(chunk, start, collectors, needs, keep_hidden=write)
        tally.add_chunk(result, chunk, start, reused)
        if write:
            store.write_shard(*_shard_record(shard, chunk, start, result, store.num_layers, store.hidden_size))
            tally.shards_written += 1
    return tally


@dataclass
class _Tally:
    skipped: list[SkippedSentence] = field(default_factory=list)
    words: int = 0
    tokens: int = 0
    extracted: int = 0
    batches: int = 0
    shards_written: int = 0
    shards_reused: int = 0
    stopped: bool = False

    def add_record(self, record: ShardRecord) -> None:
        self.skipped += [SkippedSentence(**skip) for skip in record.skipped]
        self.words += record.n_words
        self.tokens += record.tokens
        self.extracted += len(record.sentence_ids)
        self.shards_reused += 1

    def add_chunk(self, result: _ChunkResult, chunk: list[SentenceInput], start: int, reused: bool) -> None:
        self.skipped += result.skipped
        self.tokens += sum(result.tokens.values())
        self.words += sum(len(chunk[i - start].words) for i in result.tokens)
        self.extracted += len(result.tokens)
        self.batches += result.batches
        self.shards_reused += int(reused)

    def summary(self, corpus: Sized, seconds: float, settings: dict,
                store: ActivationStore | None) -> ExtractionSummary:
        store_info = None
        if store is not None:
            store_info = {"directory": str(store.directory), "shards_written": self.shards_written,
                          "shards_reused": self.shards_reused, "complete": store.complete, "key": store.key.to_dict()}
        return ExtractionSummary(
            sentences=len(corpus), extracted=self.extracted, skipped=sorted(self.skipped, key=lambda s: s.index),
            words=self.words, tokens=self.tokens, seconds=seconds, batches=self.batches,
            complete=not self.stopped, settings=settings, store=store_info,
        )
