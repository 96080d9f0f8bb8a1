"""The device-side runtime: onnxruntime + tokenizers, word alignment, batches, collectors, activation store.

Pipeline: ``WordTokenizer`` (align words to subtokens) -> ``align_sentences``/``padded_batches`` (``plan_batches``,
``pad_right``; shared by extraction, compare's paired pass and the fidelity check) -> ``ModelSession``
-> ``word_attention``/``word_hidden`` (Clark et al. 2019 pooling) -> collectors and ``ActivationStore``;
``extract`` runs it over a corpus and returns an ``ExtractionSummary``. Never imports torch.
"""

from edgeaudit.runtime.alignment import Alignment, AlignmentSkip, WordTokenizer
from edgeaudit.runtime.batching import BatchOptions, pad_right, plan_batches
from edgeaudit.runtime.collectors import (
    AttentionMass,
    Collector,
    CountingCollector,
    SpecialTokenMass,
    WordBatch,
    WordSentence,
)
from edgeaudit.runtime.corpus import SentenceInput, corpus_sha256
from edgeaudit.runtime.extract import extract
from edgeaudit.runtime.output_dir import DirectoryExtraction, ExtractOptions, extract_to_directory
from edgeaudit.runtime.padded import AlignedSentence, PaddedBatch, align_sentences, padded_batches
from edgeaudit.runtime.session import ModelSession, SessionOptions
from edgeaudit.runtime.store import ActivationStore, StoredActivations, StoreError, StoreKey
from edgeaudit.runtime.summary import ExtractionSummary, SkippedSentence
from edgeaudit.runtime.words import POOLINGS, hidden_pooling, word_attention, word_hidden

__all__ = [
    "POOLINGS",
    "ActivationStore",
    "AlignedSentence",
    "Alignment",
    "AlignmentSkip",
    "AttentionMass",
    "BatchOptions",
    "Collector",
    "CountingCollector",
    "DirectoryExtraction",
    "ExtractOptions",
    "ExtractionSummary",
    "ModelSession",
    "PaddedBatch",
    "SentenceInput",
    "SessionOptions",
    "SkippedSentence",
    "SpecialTokenMass",
    "StoreError",
    "StoreKey",
    "StoredActivations",
    "WordBatch",
    "WordSentence",
    "WordTokenizer",
    "align_sentences",
    "corpus_sha256",
    "extract",
    "extract_to_directory",
    "hidden_pooling",
    "pad_right",
    "padded_batches",
    "plan_batches",
    "word_attention",
    "word_hidden",
]
