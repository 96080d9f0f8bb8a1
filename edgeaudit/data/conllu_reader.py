"""CoNLL-U treebanks -> :class:`Sentence` objects, streaming, with every rejection explained.

What is fatal for the file (raises DataError): a missing file, bytes that are not UTF-8, classic-Mac
line endings, a file with no sentence at all, or a file in which every sentence was rejected.
What skips one sentence (recorded as a :class:`Skip` with ``file:line``): a line with the wrong number
of columns, an unparsable ID or HEAD, word ids out of sequence, a missing HEAD or DEPREL, a head
outside the sentence, no root, several roots, a cycle, no syntactic words, a multiword-token range that
overlaps another or reaches past the last word, or a ``sent_id`` already used by an earlier sentence.
Well-formed multiword-token ranges (``3-4``) and empty nodes (``8.1``) are not errors: they are left out
and the syntactic words kept.

Field parsing is delegated to the ``conllu`` library; sentence splitting is done here so that every
message can name the line it is about (``conllu`` does not track line numbers).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import conllu
from conllu.exceptions import ParseException

from edgeaudit.data._textfile import existing_file, iter_lines
from edgeaudit.data.skips import Skip
from edgeaudit.data.treebank import Sentence, Treebank, tree_problem
from edgeaudit.errors import DataError

DEFAULT_FIELDS: tuple[str, ...] = tuple(conllu.parser.DEFAULT_FIELDS)
REQUIRED_FIELDS = ("id", "form", "head", "deprel")
_CONLLU_COLUMN_SPLIT = re.compile(r"\t| {2,}")  # how ``conllu`` splits a line into fields
_GLOBAL_COLUMNS = "global.columns"


@dataclass
class _Block:
    """The consecutive non-blank lines of one sentence."""

    start: int
    lines: list[tuple[int, str]]  # (line number, text)


class _Rejected(Exception):
    """Internal: a sentence cannot be used; carries the line and reason for its Skip."""

    def __init__(self, line: int, kind: str, problem: str):
        super().__init__(problem)
        self.line, self.kind, self.problem = line, kind, problem


def _blocks(lines: Iterable[tuple[int, str]], source: str) -> Iterator[_Block]:
    """Group lines into sentences at blank lines (whitespace-only counts as blank, as in ``conllu``)."""
    current: list[tuple[int, str]] = []
    for number, text in lines:
        if "\r" in text:
            raise DataError(
                f"{source}:{number}: carriage return inside a line (classic Mac line endings?)",
                hint="convert the line endings to \\n, e.g. `tr '\\r' '\\n' < in > out`",
            )
        if text.strip():
            current.append((number, text))
        elif current:
            yield _Block(current[0][0], current)
            current = []
    if current:
        yield _Block(current[0][0], current)


def _is_comment(text: str) -> bool:
    return text.strip().startswith("#")


def _global_columns(block: _Block, source: str) -> tuple[str, ...] | None:
    """Column names from a CoNLL-U Plus ``# global.columns = ID FORM ...`` comment, if any."""
    for number, text in block.lines:
        if _is_comment(text) and text.strip("# ").startswith(_GLOBAL_COLUMNS):
            names = tuple(name.lower() for name in text.split("=", 1)[-1].split())
            missing = [name for name in REQUIRED_FIELDS if name not in names]
            if missing:
                raise DataError(
                    f"{source}:{number}: global.columns lacks {', '.join(m.upper() for m in missing)}",
                    hint="a dependency treebank needs ID, FORM, HEAD and DEPREL columns",
                )
            return names
    return None


def _check_columns(number: int, text: str, fields: tuple[str, ...]) -> None:
    columns = text.split("\t")
    if len(columns) != len(fields):
        raise _Rejected(
            number, "bad-columns", f"has a line with {len(columns)} tab-separated columns, expected {len(fields)}"
        )
    empty = [i + 1 for i, column in enumerate(columns) if not column.strip()]
    if empty:
        raise _Rejected(number, "bad-columns", f"has an empty column {empty[0]} (CoNLL-U writes '_' for no value)")
    if len(_CONLLU_COLUMN_SPLIT.split(text.strip())) != len(columns):
        raise _Rejected(number, "bad-columns", "has a field containing two consecutive spaces")


def _parse_error(number: int, text: str, fields: tuple[str, ...], error: ParseException) -> _Rejected:
    """Turn a ``conllu`` ParseException into a reason naming the column and its value."""
    match = re.search(r"field '(\w+)'", str(error))
    if match and match.group(1) in fields:
        name = match.group(1)
        value = text.split("\t")[fields.index(name)]
        what = "an integer" if name == "head" else "a valid value"
        kind = "bad-head" if name == "head" else "bad-id" if name == "id" else "parse-error"
        return _Rejected(number, kind, f"has {name.upper()} {value!r}, which is not {what}")
    return _Rejected(number, "parse-error", f"could not be parsed ({error})")


def _parse_tokens(block: _Block, fields: tuple[str, ...]) -> conllu.TokenList:
    """Let ``conllu`` parse the block; on failure, find the offending line and reject with it."""
    text = "\n".join(line for _, line in block.lines)
    try:
        return conllu.parse_token_and_metadata(text, fields=fields)
    except ParseException as block_error:
        for number, line in block.lines:
            if _is_comment(line):
                continue
            try:
                conllu.parse_token_and_metadata(line, fields=fields)
            except ParseException as error:
                raise _parse_error(number, line, fields, error) from None
        raise _Rejected(block.start, "parse-error", f"could not be parsed ({block_error})") from None


def _syntactic_words(block: _Block, tokens: conllu.TokenList) -> tuple[list[dict], list[int]]:
    """Tokens with integer ids (the syntactic words) and their line numbers, checked for sequence."""
    token_lines = [number for number, line in block.lines if not _is_comment(line)]
    words: list[dict] = []
    lines: list[int] = []
    ranges: list[tuple[int, int, int]] = []  # (first word, last word, line) of multiword tokens
    for number, token in zip(token_lines, tokens, strict=True):
        token_id = token["id"]
        if isinstance(token_id, tuple):  # (3, '-', 4) multiword range or (8, '.', 1) empty node
            if token_id[1] == "-":
                ranges.append((token_id[0], token_id[2], number))
            continue
        if not isinstance(token_id, int):
            raise _Rejected(number, "bad-id", f"has a line with ID {token_id!r}, which is not a word id")
        if token_id != len(words) + 1:
            raise _Rejected(
                number, "bad-id", f"has word id {token_id} where {len(words) + 1} was expected (ids run 1, 2, 3, ...)"
            )
        if token["head"] is None:
            raise _Rejected(number, "missing-head", f"has word {token_id} without a head ('_')")
        if token.get("deprel") in (None, "_"):
            raise _Rejected(number, "missing-relation", f"has word {token_id} without a relation ('_')")
        words.append(token)
        lines.append(number)
    if not words:
        raise _Rejected(block.start, "empty-sentence", "has no syntactic words")
    _check_ranges(ranges, len(words))
    return words, lines


def _check_ranges(ranges: list[tuple[int, int, int]], n_words: int) -> None:
    """Multiword tokens must span two or more existing words and must not overlap (UD's own rules)."""
    previous: tuple[int, int, int] | None = None
    for first, last, number in sorted(ranges):
        if last <= first:
            raise _Rejected(number, "bad-range", f"has multiword token {first}-{last}, which spans fewer than two words")
        if last > n_words:
            raise _Rejected(number, "bad-range", f"has multiword token {first}-{last} past its last word {n_words}")
        if previous is not None and first <= previous[1]:
            raise _Rejected(
                number, "bad-range",
                f"has overlapping multiword tokens {previous[0]}-{previous[1]} (line {previous[2]}) and {first}-{last}",
            )
        previous = (first, last, number)


def _no_space_after(token: dict) -> bool:
    misc = token.get("misc")
    return isinstance(misc, dict) and misc.get("SpaceAfter") == "No"


def _space_after(tokens: conllu.TokenList, n_words: int) -> tuple[bool, ...]:
    """Per syntactic word, whether a space follows it in the running text.

    ``SpaceAfter=No`` sits on the word, or for a multiword token ("don't" = do + n't) on its range line; the
    words inside a multiword token are written together.
    """
    spaces = [True] * n_words
    for token in tokens:
        token_id = token["id"]
        if isinstance(token_id, int):
            if _no_space_after(token):
                spaces[token_id - 1] = False
        elif isinstance(token_id, tuple) and token_id[1] == "-":
            first, last = token_id[0], token_id[2]
            for word in range(first, last):
                spaces[word - 1] = False
            spaces[last - 1] = not _no_space_after(token)
    return tuple(spaces)


def _build_sentence(block: _Block, fields: tuple[str, ...], source: str, sent_id: str) -> Sentence:
    for number, line in block.lines:
        if not _is_comment(line):
            _check_columns(number, line, fields)
    if all(_is_comment(line) for _, line in block.lines):
        raise _Rejected(block.start, "empty-sentence", "has only comment lines, no words")
    tokens = _parse_tokens(block, fields)
    words, lines = _syntactic_words(block, tokens)
    heads = [int(token["head"]) for token in words]
    for i, (head, number) in enumerate(zip(heads, lines, strict=True), start=1):
        if not 0 <= head <= len(words):
            raise _Rejected(number, "head-out-of-range", f"has word {i} with head {head}, outside 0..{len(words)}")
    problem = tree_problem(heads)
    if problem is not None:
        raise _Rejected(block.start, problem.kind, problem.text)
    return Sentence(
        sent_id=sent_id,
        # interned: a treebank repeats a few thousand forms and a few dozen labels hundreds of thousands of
        # times, and an audit holds every sentence (20,000 EWT sentences: 70 -> 29 MB resident)
        words=[sys.intern(str(token["form"])) for token in words],
        heads=heads,
        relations=[sys.intern(str(token["deprel"])) for token in words],
        upos=[sys.intern(str(token.get("upos") or "_")) for token in words],
        source=source,
        line=block.start,
        text=tokens.metadata.get("text"),
        space_after=_space_after(tokens, len(words)),
    )


def _sent_id(block: _Block, fallback: str) -> str:
    """The ``# sent_id =`` value, else ``fallback``; read directly so a broken token line cannot hide it."""
    for _, line in block.lines:
        stripped = line.strip()
        if stripped.startswith("#") and "=" in stripped:
            key, value = stripped[1:].split("=", 1)
            if key.strip() == "sent_id" and value.strip():
                return value.strip()
    return fallback


class ConlluStream:
    """Sentences of a CoNLL-U file, read lazily; ``skipped`` fills in as iteration proceeds.

    Iterate once for a single pass over a large file (memory stays flat); each new iteration
    re-reads the file and restarts ``skipped``. DataError is raised for problems fatal to the file.
    """

    def __init__(self, path: str | os.PathLike[str], *, source: str | None = None):
        self.path: Path = existing_file(path)
        self.source = source or str(path)
        self.skipped: list[Skip] = []
        self.n_sentences = 0

    def __iter__(self) -> Iterator[Sentence]:
        self.skipped, self.n_sentences = [], 0
        fields, n_blocks = DEFAULT_FIELDS, 0
        first_line: dict[str, int] = {}  # sent_id -> line of the kept sentence with that id
        for block in _blocks(iter_lines(self.path, self.source), self.source):
            n_blocks += 1
            fields = _global_columns(block, self.source) or fields
            sent_id = _sent_id(block, f"{self.path.stem}#{n_blocks}")
            try:
                sentence = _build_sentence(block, fields, self.source, sent_id)
            except _Rejected as rejected:
                reason = f"sentence '{sent_id}' {rejected.problem}"
                self.skipped.append(Skip(self.source, rejected.line, reason, rejected.kind, sent_id))
                continue
            if sent_id in first_line:  # ids key stores and results: a second sentence cannot share one
                reason = f"sentence '{sent_id}' has the same sent_id as the sentence on line {first_line[sent_id]}"
                self.skipped.append(Skip(self.source, block.start, reason, "duplicate-id", sent_id))
                continue
            first_line[sent_id] = block.start
            self.n_sentences += 1
            yield sentence
        self._check_not_empty(n_blocks)

    def _check_not_empty(self, n_blocks: int) -> None:
        if n_blocks == 0:
            raise DataError(
                f"{self.source}:1: contains no sentences (the file is empty or blank)",
                hint="pass a CoNLL-U file with at least one sentence",
            )
        if self.n_sentences == 0:
            raise DataError(
                f"{self.skipped[0]} — and all {len(self.skipped)} sentence(s) in the file were rejected",
                hint="is this a CoNLL-U file (10 tab-separated columns per word)?",
            )


def stream_conllu(path: str | os.PathLike[str], *, source: str | None = None) -> ConlluStream:
    """A lazy reader for large files: ``for sentence in stream: ...`` then look at ``stream.skipped``."""
    return ConlluStream(path, source=source)


def read_conllu(path: str | os.PathLike[str], *, source: str | None = None) -> Treebank:
    """Read a whole CoNLL-U file; skipped sentences are in ``treebank.skipped`` with ``file:line`` reasons."""
    stream = ConlluStream(path, source=source)
    sentences = list(stream)
    return Treebank(sentences=sentences, source=stream.source, skipped=stream.skipped)
