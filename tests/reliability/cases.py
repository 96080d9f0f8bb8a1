"""The bad-input corpus: one row per case, covering every input edgeaudit reads.

A case writes its files into a fresh directory (the subprocess's working directory, so messages name
them relatively), optionally breaks a copy of the tiny bundle (``bundle_edit``), runs a command and
expects one of three outcomes:

- ``Fails(fragments)``: exit 2, exactly one ``edgeaudit: error:`` line on stderr containing every fragment
  (they name the file:line or the manifest field or the option), no traceback;
- ``Counted(kind)``: exit 0 and the item is skipped *and counted* — in ``extraction.json`` (reader skips
  under ``data``, runtime skips under ``summary``) or in the loaded norms' ``skipped_by_kind``;
- ``Accepted(...)``: exit 0; the input is valid (a BOM, CRLF line ends, ``null`` as a word) and read as such.

Placeholders in ``args``: ``{bundle}`` (the tiny bundle, or the case's broken copy), ``{good}`` (a valid
treebank), ``{out}`` (an output directory inside the case directory).

Cases with ``via="loader"`` read norms/categories through ``cli.LOADER_SCRIPT`` because no command takes
them yet; ``future_cli`` is the command line they should switch to once ``edgeaudit audit`` exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.reliability import bundle_edits as be


@dataclass(frozen=True)
class Fails:
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class Counted:
    kind: str
    where: str  # "reader" (extraction.json data), "runtime" (extraction.json summary) or "norms" (loader)
    fragment: str = ""  # must occur in the listed skip (its file:line and reason), when given


@dataclass(frozen=True)
class Accepted:
    extracted: int | None = None  # extract: sentences extracted
    stdout: tuple[str, ...] = ()  # loader: fragments of the JSON summary


@dataclass(frozen=True)
class Case:
    id: str
    input: str  # conllu | norms | categories | bundle | option
    expect: Fails | Counted | Accepted
    args: tuple[str, ...] = ()
    files: Mapping[str, bytes | str] = field(default_factory=dict)
    bundle_edit: be.Edit | None = None
    via: str = "cli"  # "cli" or "loader"
    options: Mapping[str, Any] = field(default_factory=dict)  # loader keyword arguments
    future_cli: tuple[str, ...] = ()  # loader cases: the command that will take this input
    pending: str | None = None  # why the case cannot run yet (skipped with this reason)


GOOD_CONLLU = """# sent_id = good-1
# text = The cat sat.
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_
3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

# sent_id = good-2
1\tDogs\tdog\tNOUN\tNNS\t_\t2\tnsubj\t_\t_
2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_

"""


# --- building blocks -----------------------------------------------------------------------------


def row(i: int | str, form: str, head: int | str, rel: str = "dep", upos: str = "X") -> str:
    return f"{i}\t{form}\t{form.lower()}\t{upos}\t_\t_\t{head}\t{rel}\t_\t_"


def sentence(sent_id: str, *rows: str) -> str:
    return f"# sent_id = {sent_id}\n" + "\n".join(rows) + "\n\n"


def with_good(bad: str) -> str:
    """The two good sentences (lines 1-11), then ``bad`` starting on line 12."""
    return GOOD_CONLLU + bad


def extract(data: str, *extra: str) -> tuple[str, ...]:
    return ("extract", "{bundle}", "--data", data, "--out", "{out}", "--quiet", *extra)


def bundle_case(case_id: str, edit: be.Edit, *fragments: str) -> Case:
    return Case(case_id, "bundle", Fails(fragments), extract("{good}"), bundle_edit=edit)


def loader_case(case_id: str, kind: str, name: str, content: bytes | str, expect, **options: Any) -> Case:
    flag = "--norms" if kind == "norms" else "--categories"
    files = {} if name.startswith("builtin:") else {name: content}
    return Case(case_id, kind, expect, (kind, name), files=files, via="loader", options=options,
                future_cli=("audit", "{bundle}", "--data", "{good}", flag, name))


LONG_SENTENCE = sentence("long", *(row(i, "the", 0 if i == 1 else 1) for i in range(1, 80)))  # > 64 subtokens
CYCLE = sentence("cyc", row(1, "A", 0, "root"), row(2, "B", 3), row(3, "C", 2))
OVERLAP = sentence("mwt", "1-2\tdel\t_\t_\t_\t_\t_\t_\t_\t_", "1-3\tdella\t_\t_\t_\t_\t_\t_\t_\t_",
                   row(1, "de", 3, "case"), row(2, "el", 3, "det"), row(3, "casa", 0, "root"))
WIDE = "word,size,weight\n"

# --- the table -------------------------------------------------------------------------------------

CONLLU_CASES = [
    Case("conllu-empty-file", "conllu", Fails(("empty.conllu:1", "contains no sentences")), extract("empty.conllu"),
         files={"empty.conllu": ""}),
    Case("conllu-blank-lines-only", "conllu", Fails(("blank.conllu:1", "contains no sentences")),
         extract("blank.conllu"), files={"blank.conllu": "\n  \n\t\n"}),
    Case("conllu-bom", "conllu", Accepted(extracted=2), extract("bom.conllu"),
         files={"bom.conllu": "\ufeff" + GOOD_CONLLU}),
    Case("conllu-crlf", "conllu", Accepted(extracted=2), extract("crlf.conllu"),
         files={"crlf.conllu": GOOD_CONLLU.replace("\n", "\r\n").encode("utf-8")}),
    Case("conllu-classic-mac-line-ends", "conllu", Fails(("mac.conllu:1", "carriage return")),
         extract("mac.conllu"), files={"mac.conllu": GOOD_CONLLU.replace("\n", "\r").encode("utf-8")}),
    Case("conllu-latin1", "conllu", Fails(("latin1.conllu:13", "byte 0xe9", "not valid UTF-8")),
         extract("latin1.conllu"),
         files={"latin1.conllu": with_good(sentence("cafe", row(1, "Café", 0, "root"))).encode("latin-1")}),
    Case("conllu-binary-file", "conllu", Fails(("gzip.conllu:1", "not valid UTF-8")), extract("gzip.conllu"),
         files={"gzip.conllu": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07\x00"}),
    Case("conllu-wrong-column-count", "conllu",
         Fails(("cols.conllu:2", "9 tab-separated columns, expected 10", "all 1 sentence(s)")),
         extract("cols.conllu"), files={"cols.conllu": "# sent_id = c\n1\tThe\tthe\tDET\t_\t_\t0\troot\t_\n\n"}),
    Case("conllu-wrong-column-count-among-good", "conllu", Counted("bad-columns", "reader", "cols.conllu:13"),
         extract("cols.conllu"), files={"cols.conllu": with_good("# sent_id = c\n1\tThe\tthe\tDET\t_\t_\t0\troot\n\n")}),
    Case("conllu-spaces-instead-of-tabs", "conllu", Fails(("spaces.conllu:1", "1 tab-separated columns")),
         extract("spaces.conllu"), files={"spaces.conllu": "1 The the DET _ _ 0 root _ _\n\n"}),
    Case("conllu-empty-column", "conllu", Counted("bad-columns", "reader", "empty column 8"),
         extract("cols.conllu"), files={"cols.conllu": with_good(sentence("e", row(1, "A", 0, "")))}),
    Case("conllu-non-integer-head", "conllu", Fails(("head.conllu:2", "HEAD 'x', which is not an integer")),
         extract("head.conllu"), files={"head.conllu": sentence("h", row(1, "A", "x", "root"))}),
    Case("conllu-non-integer-id", "conllu", Counted("bad-id", "reader", "ids.conllu:13"), extract("ids.conllu"),
         files={"ids.conllu": with_good(sentence("i", row("one", "A", 0, "root")))}),
    Case("conllu-id-gap", "conllu", Counted("bad-id", "reader", "word id 3 where 2 was expected"),
         extract("gap.conllu"), files={"gap.conllu": with_good(sentence("g", row(1, "A", 0, "root"), row(3, "B", 1)))}),
    Case("conllu-head-out-of-range", "conllu", Counted("head-out-of-range", "reader", "range.conllu:14"),
         extract("range.conllu"),
         files={"range.conllu": with_good(sentence("r", row(1, "A", 0, "root"), row(2, "B", 7)))}),
    Case("conllu-cycle-among-good", "conllu", Counted("cycle", "reader", "cycle.conllu:12"), extract("cycle.conllu"),
         files={"cycle.conllu": with_good(CYCLE)}),
    Case("conllu-self-loop", "conllu", Counted("cycle", "reader", "word 2 is its own head"), extract("loop.conllu"),
         files={"loop.conllu": with_good(sentence("s", row(1, "A", 0, "root"), row(2, "B", 2)))}),
    Case("conllu-two-roots", "conllu", Counted("several-roots", "reader", "words 1, 2"), extract("roots.conllu"),
         files={"roots.conllu": with_good(sentence("t", row(1, "A", 0, "root"), row(2, "B", 0, "root")))}),
    Case("conllu-no-root", "conllu", Fails(("noroot.conllu:1", "has no root")), extract("noroot.conllu"),
         files={"noroot.conllu": sentence("n", row(1, "A", 2), row(2, "B", 1))}),
    Case("conllu-missing-head", "conllu", Counted("missing-head", "reader", "without a head"), extract("h.conllu"),
         files={"h.conllu": with_good(sentence("m", row(1, "A", "_", "root")))}),
    Case("conllu-missing-relation", "conllu", Counted("missing-relation", "reader", "without a relation"),
         extract("rel.conllu"), files={"rel.conllu": with_good(sentence("m", row(1, "A", 0, "_")))}),
    Case("conllu-only-comments", "conllu", Fails(("comments.conllu:1", "only comment lines")),
         extract("comments.conllu"), files={"comments.conllu": "# sent_id = x\n# text = nothing\n\n"}),
    Case("conllu-global-columns-without-head", "conllu", Fails(("plus.conllu:1", "global.columns lacks HEAD, DEPREL")),
         extract("plus.conllu"), files={"plus.conllu": "# global.columns = ID FORM\n1\tA\n\n"}),
    Case("conllu-all-sentences-rejected", "conllu",
         Fails(("bad.conllu:1", "has a cycle", "all 2 sentence(s) in the file were rejected")), extract("bad.conllu"),
         files={"bad.conllu": CYCLE.replace("# sent_id = cyc", "# sent_id = c1") + sentence("c2", row(1, "A", 1))}),
    Case("conllu-over-model-length", "conllu", Counted("too-long", "runtime", "over the model's limit of 64"),
         extract("long.conllu"), files={"long.conllu": with_good(LONG_SENTENCE)}),
    Case("conllu-only-punctuation", "conllu", Accepted(extracted=3), extract("punct.conllu"),
         files={"punct.conllu": with_good(sentence("p", row(1, ".", 0, "root", "PUNCT"), row(2, "!", 1, "punct")))}),
    Case("conllu-word-the-tokenizer-drops", "conllu", Counted("unaligned-word", "runtime", "maps to no subtoken"),
         extract("zw.conllu"), files={"zw.conllu": with_good(sentence("zw", row(1, "\u200b", 0, "root"), row(2, "cat", 1)))}),
    Case("conllu-multiword-ranges-overlap", "conllu", Counted("bad-range", "reader", "overlapping multiword tokens"),
         extract("mwt.conllu"), files={"mwt.conllu": with_good(OVERLAP)}),
    Case("conllu-multiword-range-past-end", "conllu", Counted("bad-range", "reader", "past its last word 1"),
         extract("mwt.conllu"),
         files={"mwt.conllu": with_good(sentence("w", "1-3\tdel\t_\t_\t_\t_\t_\t_\t_\t_", row(1, "de", 0, "root")))}),
    Case("conllu-duplicate-sent-id", "conllu", Counted("duplicate-id", "reader", "same sent_id as the sentence on line 1"),
         extract("dup.conllu"), files={"dup.conllu": with_good(sentence("good-1", row(1, "Again", 0, "root")))}),
    Case("conllu-missing-file", "conllu", Fails(("nope.conllu: no such file",)), extract("nope.conllu")),
    Case("conllu-directory", "conllu", Fails(("sub: is a directory",)), extract("sub"), files={"sub/x": ""}),
    Case("conllu-builtin-typo", "conllu", Fails(("'builtin:treebnk'", "did you mean 'builtin:treebank'")),
         extract("builtin:treebnk")),
    Case("conllu-builtin-of-another-kind", "conllu", Fails(("'builtin:concepts' is a norms table, not a treebank",)),
         extract("builtin:concepts")),
]

NORMS_CASES = [
    loader_case("norms-missing-feature-column", "norms", "n.csv", WIDE + "dog,1,2\n",
                Fails(("n.csv:1", "cannot find the feature column")), layout="long"),
    loader_case("norms-missing-named-column", "norms", "n.csv", "concept,feature\ndog,barks\n",
                Fails(("n.csv:1", "no concept column 'Concept_Name'")), concept_column="Concept_Name"),
    loader_case("norms-duplicate-concept-wide", "norms", "n.csv", WIDE + "dog,1,2\ncat,1,1\ndog,2,2\n",
                Fails(("n.csv:4", "concept 'dog' appears again (first on line 2)"))),
    loader_case("norms-duplicate-pair-long", "norms", "n.csv", "concept,feature,prod_freq\ndog,barks,5\ndog,barks,7\n",
                Fails(("n.csv:3", "lists feature 'barks' again (first on line 2)")), duplicate_pairs="error"),
    loader_case("norms-duplicate-word-senses", "norms", "n.csv", "concept,feature\nbat_(animal),flies\nbat_(club),wood\n",
                Fails(("n.csv:3", "has the same word 'bat'")), duplicates="error"),
    loader_case("norms-duplicate-header", "norms", "n.csv", "word,size,size\ndog,1,2\n",
                Fails(("n.csv:1", "column 'size' appears twice"))),
    loader_case("norms-non-numeric-long", "norms", "n.csv", "concept,feature,prod_freq\ndog,barks,5\ncat,purrs,many\n",
                Fails(("n.csv:3", "prod_freq is 'many'", "not a finite number"))),
    loader_case("norms-non-numeric-wide", "norms", "n.csv", WIDE + "dog,big,2\n",
                Fails(("n.csv:2", "column 'size' is 'big' for 'dog'")), value_columns=["size", "weight"]),
    loader_case("norms-infinite-value", "norms", "n.csv", "concept,feature,prod_freq\ndog,barks,inf\n",
                Fails(("n.csv:2", "not a finite number"))),
    loader_case("norms-concept-without-features", "norms", "n.csv", WIDE + "dog,1,2\nrock,0,0\n",
                Counted("no-features", "norms")),
    loader_case("norms-null-as-word", "norms", "n.csv", WIDE + "null,1,2\nNA,2,1\nnan,3,3\n",
                Accepted(stdout=('"concepts": 3', '"null"', '"na"', '"nan"'))),
    loader_case("norms-word-only-underscores", "norms", "n.csv", WIDE + "dog,1,2\n_,1,1\n",
                Fails(("n.csv:3", "concept '_' names no word"))),
    loader_case("norms-empty-file", "norms", "n.csv", "", Fails(("n.csv:1", "the file is empty"))),
    loader_case("norms-ragged-row", "norms", "n.tsv", "concept\tfeature\tprod_freq\ndog\tbarks\t5\ncat\tpurrs\n",
                Fails(("n.tsv:3", "row has 2 fields, the header has 3 (tab-separated)"))),
    loader_case("norms-no-delimiter", "norms", "n.csv", "concept\ndog\n", Fails(("n.csv:1", "cannot tell the delimiter"))),
    loader_case("norms-latin1", "norms", "n.csv", (WIDE + "dog,1,2\ncafé,1,1\n").encode("latin-1"),
                Fails(("n.csv:3", "byte 0xe9", "not valid UTF-8"))),
    loader_case("norms-bad-delimiter-option", "norms", "n.csv", WIDE + "dog,1,2\n",
                Fails(("delimiter 'ab'",)), delimiter="ab"),
    loader_case("norms-unknown-layout-option", "norms", "n.csv", WIDE + "dog,1,2\n",
                Fails(("unknown layout 'diagonal'",)), layout="diagonal"),
    loader_case("norms-builtin-with-options", "norms", "builtin:concepts", "",
                Fails(("builtin:concepts: options ['layout'] apply to files only",)), layout="long"),
    Case("norms-word-unknown-to-the-tokenizer", "norms", Counted("unknown-word", "norms"), ("norms", "n.csv"),
         files={"n.csv": WIDE + "dog,1,2\nxylophonequark,1,1\n"}, via="loader",
         pending="words are matched to the tokenizer by `edgeaudit audit --norms`, which does not exist yet"),
]

CATEGORY_CASES = [
    loader_case("categories-one-column", "categories", "c.csv", "word\ndog\n",
                Fails(("c.csv:1", "need a category column")), delimiter=","),
    loader_case("categories-empty-category", "categories", "c.csv", "word,category\ndog,animal\ncat,\n",
                Fails(("c.csv:3", "empty category"))),
    loader_case("categories-missing-named-column", "categories", "c.tsv", "lemma\tlexfile\ndog\tnoun.animal\n",
                Fails(("c.tsv:1", "no category column 'supersense'")), category_column="supersense"),
    loader_case("categories-pos-without-pos-column", "categories", "c.csv", "word,category\ndog,animal\n",
                Fails(("c.csv:1", "no part-of-speech column 'pos'")), pos="n"),
    loader_case("categories-unknown-policy", "categories", "c.csv", "word,category\ndog,animal\n",
                Fails(("unknown category policy 'vote'",)), policy="vote"),
    loader_case("categories-header-only", "categories", "c.csv", "word,category\n", Fails(("c.csv:1", "no rows"))),
    loader_case("categories-builtin-typo", "categories", "builtin:concept", "",
                Fails(("'builtin:concept'", "did you mean 'builtin:concepts'"))),
]

BUNDLE_CASES = [
    Case("bundle-missing-directory", "bundle", Fails(("nowhere: no such bundle directory",)),
         ("extract", "nowhere", "--data", "{good}", "--out", "{out}")),
    Case("bundle-is-a-file", "bundle", Fails(("model.onnx: is a file, expected a bundle directory",)),
         ("extract", "model.onnx", "--data", "{good}", "--out", "{out}"), files={"model.onnx": b"\x08\x07"}),
    bundle_case("bundle-no-manifest", be.delete("edgeaudit.json"), "bundle: not a bundle (no edgeaudit.json)"),
    bundle_case("bundle-missing-onnx", be.delete("model.onnx"), "edgeaudit.json", "field 'onnx.file' names model.onnx"),
    bundle_case("bundle-missing-tokenizer", be.delete("tokenizer.json"), "field 'tokenizer.file' names tokenizer.json"),
    bundle_case("bundle-manifest-invalid-json", be.write_file("edgeaudit.json", '{\n  "schema": edgeaudit\n}'),
                "bundle/edgeaudit.json:2: invalid JSON"),
    bundle_case("bundle-manifest-field-missing", be.drop_field("model.num_layers"),
                "edgeaudit.json", "field 'model': 'num_layers' is missing"),
    bundle_case("bundle-manifest-field-wrong-type", be.set_field("model.num_layers", "2"),
                "field 'model.num_layers': '2' is not of type 'integer'"),
    bundle_case("bundle-manifest-field-extra", be.set_field("model.notes", "hand-edited"),
                "field 'model'", "'notes' not allowed here"),
    bundle_case("bundle-manifest-schema-version", be.set_field("schema_version", 2), "field 'schema_version'"),
    bundle_case("bundle-manifest-layer-count", be.set_field("model.num_layers", 3),
                "field 'taps.attention'", "model.num_layers=3"),
    bundle_case("bundle-sha256-mismatch", be.set_field("onnx.sha256", "0" * 64),
                "field 'onnx.sha256' does not match model.onnx"),
    bundle_case("bundle-onnx-file-escapes", be.set_field("onnx.file", "../model.onnx"),
                "field 'onnx.file' = '../model.onnx' points outside the bundle"),
    bundle_case("bundle-onnx-file-absolute", be.set_field("onnx.file", "/etc/hostname"),
                "field 'onnx.file' = '/etc/hostname' points outside the bundle"),
    bundle_case("bundle-tokenizer-file-escapes", be.set_field("tokenizer.file", "../../tokenizer.json"),
                "field 'tokenizer.file'", "points outside the bundle"),
    bundle_case("bundle-external-data-escapes", be.set_field("onnx.external_data", ["../weights.bin"]),
                "field 'onnx.external_data.0' = '../weights.bin' points outside the bundle"),
    bundle_case("bundle-external-data-missing", be.set_field("onnx.external_data", ["model.onnx.data"]),
                "external data file model.onnx.data is missing"),
    bundle_case("bundle-graph-weights-outside", be.external_weights_at("../stolen.bin"),
                "model.onnx: tensor", "keeps its data in '../stolen.bin', outside the bundle"),
    bundle_case("bundle-onnx-not-a-transformer", be.identity_model,
                "model.onnx: graph lacks tap output(s) attention_0"),
    bundle_case("bundle-onnx-tap-names-wrong-ranks", be.tap_named_identity_model,
                "model.onnx: output attention_0 has rank 2, expected 4"),
    bundle_case("bundle-onnx-unknown-operator", be.unknown_operator_model,
                "model.onnx: onnxruntime cannot load the model", "NoSuchOp"),
    bundle_case("bundle-taps-missing-in-graph", be.drop_graph_output("attention_1"),
                "model.onnx: graph lacks tap output(s) attention_1"),
    bundle_case("bundle-corrupt-protobuf", be.write_file("model.onnx", b"\x08\x07garbage" * 64, rehash_model=True),
                "model.onnx: not a readable ONNX model"),
    bundle_case("bundle-truncated-onnx", be.truncate_model, "model.onnx: not a readable ONNX model"),
    bundle_case("bundle-tokenizer-larger-vocabulary", be.larger_foreign_tokenizer,
                "tokenizer.json: tokenizer has 400 tokens", "(model.vocab_size) has 164"),
    bundle_case("bundle-tokenizer-of-another-model", be.smaller_foreign_tokenizer,
                "tokenizer.json: special_token_ids is [0, 1, 2, 3]", "tokenizer.special_token_ids"),
    bundle_case("bundle-tokenizer-not-json", be.write_file("tokenizer.json", "{vocab: 1"),
                "tokenizer.json: cannot be read as a tokenizers JSON file"),
    bundle_case("bundle-pad-id-outside-vocabulary", be.set_field("tokenizer.pad_token_id", 5000),
                "field 'tokenizer.pad_token_id' has id 5000", "model.vocab_size=164"),
    bundle_case("bundle-max-length-over-positions", be.set_field("tokenizer.max_length", 4096),
                "field 'tokenizer.max_length' (4096) exceeds 'model.max_positions' (64)"),
    bundle_case("bundle-hidden-size-mismatch", be.set_field("model.hidden_size", 64),
                "output hidden_state_0 has hidden size 32", "model.hidden_size is 64"),
    bundle_case("bundle-onnx-symlinked-outside", be.linked_outside("model.onnx"),
                "field 'onnx.file' names model.onnx, a link to", "outside the bundle"),
    bundle_case("bundle-tokenizer-symlinked-outside", be.linked_outside("tokenizer.json"),
                "field 'tokenizer.file' names tokenizer.json, a link to", "outside the bundle"),
    bundle_case("bundle-head-count-the-graph-contradicts", be.set_field("model.num_heads", 8),
                "model.onnx: output attention_0 has shape", "(heads 4)", "model.num_heads is 8"),
    Case("bundle-positions-beyond-the-graph", "bundle",
         Fails(("model.onnx: onnxruntime failed on a batch of 1 sentence(s) x", "tokenizer.max_length (4096)")),
         extract("long.conllu"), files={"long.conllu": with_good(LONG_SENTENCE)},
         bundle_edit=lambda bundle: (be.set_field("model.max_positions", 4096)(bundle),
                                     be.set_field("tokenizer.max_length", 4096)(bundle))),
    bundle_case("bundle-absurd-layer-count", be.set_field("model.num_layers", 10**9),
                "field 'model.num_layers'", "is greater than the maximum of"),
    bundle_case("bundle-absurd-vocabulary", be.set_field("model.vocab_size", 10**12),
                "field 'model.vocab_size'", "is greater than the maximum of"),
]

OPTION_CASES = [
    Case("option-threads-zero", "option", Fails(("'--threads'", "0 is not in the range x>=1")),
         extract("{good}", "--threads", "0")),
    Case("option-threads-not-a-number", "option", Fails(("'--threads'", "'many'")), extract("{good}", "--threads", "many")),
    Case("option-batch-tokens-negative", "option", Fails(("'--batch-tokens'", "-1 is not in the range")),
         extract("{good}", "--batch-tokens", "-1")),
    Case("option-pooling-unknown", "option", Fails(("'--pooling'", "'weird' is not one of 'mean', 'first', 'last'")),
         extract("{good}", "--pooling", "weird")),
    Case("option-optimization-unknown", "option", Fails(("'--optimization'", "'max'")),
         extract("{good}", "--optimization", "max")),
    Case("option-unknown-flag", "option", Fails(("No such option '--frobnicate'", "edgeaudit extract --help")),
         extract("{good}", "--frobnicate")),
    Case("option-data-missing", "option", Fails(("Missing option '--data'",)),
         ("extract", "{bundle}", "--out", "{out}")),
    Case("option-unknown-command", "option", Fails(("No such command 'audit-all'",)), ("audit-all",)),
    Case("option-preset-int9", "option", Fails(("option --preset: unknown preset 'int9'", "did you mean")),
         ("compress", "{bundle}", "{out}", "--preset", "int9", "--quiet")),
    Case("option-static-preset-without-calibration", "option", Fails(("--calibration is required",)),
         ("compress", "{bundle}", "{out}", "--preset", "int8-static", "--quiet")),
    Case("option-calibration-limit-zero", "option", Fails(("'--calibration-limit'", "0 is not in the range")),
         ("compress", "{bundle}", "{out}", "--preset", "int8-static", "--calibration", "builtin:treebank",
          "--calibration-limit", "0")),
    Case("option-out-is-a-file", "option", Fails(("out: exists and is a file",)), extract("{good}"),
         files={"out": "not a directory"}),
    Case("option-out-below-a-file", "option", Fails(("blocker/run: cannot create the output directory",
                                                     "blocker is a file")),
         ("extract", "{bundle}", "--data", "{good}", "--out", "blocker/run", "--quiet"), files={"blocker": "x"}),
    Case("option-out-holds-foreign-files", "option", Fails(("out/activations: exists and is not an activation store",)),
         extract("{good}"), files={"out/activations/notes.txt": "mine"}),
    Case("option-out-store-damaged", "option", Fails(("out/activations/store.json: is damaged", "--overwrite")),
         extract("{good}"), files={"out/activations/store.json": '{"key": '}),
]



def audit(*extra: str) -> tuple[str, ...]:
    return ("audit", "{bundle}", "--data", "{good}", "--out", "{out}", "--quiet", *extra)


CONCEPT_WORDS = ("dog", "cat", "horse", "cow", "pig", "sheep", "lion", "tiger", "bear", "wolf", "fox", "rabbit")

# issue 18: numbers that are numbers, silent drops, seeds
ISSUE_18_CASES = [
    Case("option-seed-negative", "option", Fails(("option --seed: -1 is out of range", "0..4294967295")),
         audit("--seed", "-1", "--probes", "attention")),
    Case("option-seed-beyond-32-bits", "option", Fails(("option --seed: 4294967296 is out of range",)),
         audit("--seed", str(2**32), "--probes", "attention")),
    loader_case("norms-extreme-value", "norms", "n.csv", WIDE + "dog,1e308,2\ncat,1,1\n",
                Fails(("n.csv:2", "column 'size' for 'dog' is 1e+308", "beyond"))),
    loader_case("norms-extreme-value-long", "norms", "n.csv", "concept,feature,prod_freq\ndog,barks,-1e300\n",
                Fails(("n.csv:2", "prod_freq is -1e+300", "beyond"))),
    loader_case("norms-trailing-delimiter", "norms", "n.csv", "word,size,weight,\ndog,1,2,\ncat,2,1,\n",
                Accepted(stdout=('"concepts": 2', '"features": 2'))),
    Case("norms-blank-cells-everywhere", "norms", Fails(("n.csv: every concept has empty values (2 left out)",)),
         audit("--probes", "property", "--norms", "n.csv"), files={"n.csv": WIDE + "dog,,2\ncat,1,\n"}),
    Case("categories-match-no-concept", "categories",
         Fails(("cats.csv: no category for any of the", "builtin:concepts")),
         audit("--probes", "property", "--categories", "cats.csv"), files={"cats.csv": "word,category\nzzyzx,a\n"}),
    Case("categories-single-category", "categories",
         Fails(("cats.csv: all 12 usable concepts with a category are in one category 'animal'", "at least 2")),
         audit("--probes", "property", "--categories", "cats.csv", "--folds", "2"),
         files={"cats.csv": "word,category\n" + "".join(f"{w},animal\n" for w in CONCEPT_WORDS)}),
    Case("conllu-no-sentence-left-after-runtime-skips", "conllu",
         Fails(("no usable sentences in long.conllu: 1 skipped (1 too-long)",)),
         ("audit", "{bundle}", "--data", "long.conllu", "--out", "{out}", "--quiet", "--probes", "attention"),
         files={"long.conllu": "# sent_id = long-1\n" + "".join(
             f"{i}\tw{i}\tw\tX\t_\t_\t{0 if i == 1 else 1}\t{'root' if i == 1 else 'dep'}\t_\t_\n"
             for i in range(1, 200)) + "\n"}),
    Case("conllu-unbounded-line", "conllu", Fails(("huge.conllu:2: line is longer than 1048576 bytes",)),
         extract("huge.conllu"), files={"huge.conllu": "# sent_id = a\n" + "x" * (3 << 20)}),
]

CASES: list[Case] = CONLLU_CASES + NORMS_CASES + CATEGORY_CASES + BUNDLE_CASES + OPTION_CASES + ISSUE_18_CASES
