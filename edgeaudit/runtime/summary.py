"""What an extraction did: counts, skipped sentences with reasons and ids, timing — serialisable."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

SUMMARY_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SkippedSentence:
    index: int  # position in the extraction input
    sent_id: str
    kind: str  # "too-long" | "unaligned-word" | "empty"
    reason: str

    def __str__(self) -> str:
        return f"sentence {self.sent_id!r} {self.reason}"


@dataclass
class ExtractionSummary:
    sentences: int  # sentences given
    extracted: int
    skipped: list[SkippedSentence]
    words: int  # words of extracted sentences
    tokens: int  # subtokens (with special tokens) of extracted sentences
    seconds: float
    batches: int
    complete: bool  # False when stopped early (max_shards)
    settings: dict[str, Any] = field(default_factory=dict)
    store: dict[str, Any] | None = None  # directory, shards written / reused, key

    @property
    def sentences_per_second(self) -> float:
        return self.extracted / self.seconds if self.seconds > 0 else float("inf")

    def skipped_by_kind(self) -> dict[str, int]:
        return dict(Counter(skip.kind for skip in self.skipped).most_common())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema_version"] = SUMMARY_SCHEMA_VERSION
        data["skipped_by_kind"] = self.skipped_by_kind()
        data["sentences_per_second"] = round(self.sentences_per_second, 2) if self.seconds > 0 else None
        data["seconds"] = round(self.seconds, 3)
        return data

    def describe(self) -> str:
        """A few lines for people: counts, skips by reason, time."""
        lines = [
            f"sentences  {self.sentences} given, {self.extracted} extracted, {len(self.skipped)} skipped",
            f"words      {self.words} ({self.tokens} subtokens incl. special tokens)",
        ]
        for kind, count in self.skipped_by_kind().items():
            example = next(skip for skip in self.skipped if skip.kind == kind)
            lines.append(f"skipped    {count} {kind}, e.g. {example}")
        rate = f", {self.sentences_per_second:.1f} sentences/s" if self.seconds > 0 and self.batches else ""
        lines.append(f"time       {self.seconds:.1f} s in {self.batches} batches{rate}")
        if self.store is not None:
            lines.append(f"store      {self.store['directory']} ({self.store['shards_written']} shards written, "
                         f"{self.store['shards_reused']} reused)")
        if self.settings.get("word_prefix_verified") is False:
            lines.append("warning    this tokenizer does not split pre-split words as it splits running text; "
                         "word alignment may differ from how the model reads sentences")
        if not self.complete:
            lines.append("stopped    early (max_shards); rerun to resume")
        return "\n".join(lines)
