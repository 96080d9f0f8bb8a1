"""``edgeaudit extract BUNDLE --data ... --out DIR``: word-level activations of a treebank, on the device."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgeaudit.cli.skips import skip_line
from edgeaudit.runtime.output_dir import STORE_DIR, DirectoryExtraction, ExtractOptions, extract_to_directory
from edgeaudit.runtime.session import OPTIMIZATION_LEVELS
from edgeaudit.runtime.words import POOLINGS


def _data_report(spec: str, sentences_read: int, skipped: list) -> dict:
    from edgeaudit.data.skips import count_skips

    kinds = count_skips(skipped)
    return {
        "spec": spec,
        "sentences_read": sentences_read,
        "reader_skipped": len(skipped),
        "reader_skipped_by_kind": kinds,
        "reader_skips": [str(skip) for skip in skipped],
    }


def _open_corpus(spec: str):
    """``(sentences, data report)``. A file is streamed (read once to count and hash, then chunk by chunk as the
    model runs), so memory does not grow with its length; built-in treebanks are small and held."""
    from edgeaudit.data import is_builtin, load_treebank, stream_conllu
    from edgeaudit.runtime.corpus import StreamedCorpus

    if is_builtin(spec):
        treebank = load_treebank(spec)
        return treebank.sentences, _data_report(spec, len(treebank.sentences), list(treebank.skipped))
    stream = stream_conllu(spec)
    corpus = StreamedCorpus(stream)
    return corpus, _data_report(spec, len(corpus), list(stream.skipped))


def _skip_summary(result: DirectoryExtraction) -> str | None:
    """Reader rejections plus sentences the model could not take, as the one stderr line every command prints."""
    data = result.report["data"]
    counts = dict(data.get("reader_skipped_by_kind") or {})
    for kind, count in result.summary.skipped_by_kind().items():
        counts[kind] = counts.get(kind, 0) + count
    total = int(data.get("sentences_read") or 0) + int(data.get("reader_skipped") or 0)
    return skip_line(counts, total, str(result.path))


def _json_summary(result: DirectoryExtraction, out_dir: Path) -> str:
    summary = result.summary.to_dict()
    summary.pop("skipped", None)  # one line per sentence stays in extraction.json
    return json.dumps({"file": str(result.path), "store": str(out_dir / STORE_DIR), "reused": result.report["reused"],
                       "data": {k: v for k, v in result.report["data"].items() if k != "reader_skips"},
                       "extraction": summary}, indent=2)


def _print_result(result: DirectoryExtraction, out_dir: Path) -> None:
    data = result.report["data"]
    if data.get("reader_skipped"):
        kinds = ", ".join(f"{n} {kind}" for kind, n in data["reader_skipped_by_kind"].items())
        click.echo(f"reader     {data['reader_skipped']} sentence(s) skipped while reading ({kinds})")
    click.echo(result.summary.describe())
    if result.report["reused"]:
        click.echo("reused     a finished extraction with the same bundle, data and settings (--overwrite redoes it)")
    click.echo(f"written    {result.path} and {out_dir / STORE_DIR}/")


@click.command("extract")
@click.argument("bundle_dir", metavar="BUNDLE", type=click.Path(path_type=str))
@click.option("--data", "data_spec", required=True, metavar="PATH|builtin:NAME",
              help="A CoNLL-U treebank file, or a built-in one such as builtin:treebank.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output directory: activations/ (word hidden states per layer) and extraction.json.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="onnxruntime intra-op threads [default: the cores available].")
@click.option("--batch-tokens", type=click.IntRange(min=1), default=2048, show_default=True,
              help="Padded subtokens per batch; larger is faster and uses more memory.")
@click.option("--pooling", type=click.Choice(POOLINGS), default="mean", show_default=True,
              help="How a word's hidden state is made from its subtokens.")
@click.option("--optimization", type=click.Choice(OPTIMIZATION_LEVELS), default="extended", show_default=True,
              help="onnxruntime graph optimisation level.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--overwrite", is_flag=True, help="Replace an existing extraction made with another bundle/data/settings.")
@click.option("--json", "as_json", is_flag=True, help="Print the extraction summary as JSON on stdout.")
def extract_command(bundle_dir: str, data_spec: str, out_dir: Path, threads: int | None, batch_tokens: int,
                    pooling: str, optimization: str, quiet: bool, overwrite: bool, as_json: bool) -> None:
    """Run a treebank through BUNDLE and store word-level hidden states of every layer.

    Words are aligned to subtokens (special tokens dropped, their attention mass reported); sentences
    that cannot be aligned or exceed the model's length are skipped and listed with their ids. An
    interrupted run resumes where it stopped; a finished one is reused.

    \b
    Examples:
      edgeaudit extract ./bundle --data en_ewt-ud-dev.conllu --out ./runs/ewt-dev
      edgeaudit extract ./bundle --data builtin:treebank --out ./runs/builtin --threads 2 --quiet
      edgeaudit extract ./bundle-int8 --data dev.conllu --out ./runs/int8 --pooling first --overwrite
      edgeaudit extract ./bundle --data dev.conllu --out ./runs/dev -q --json | jq .extraction.skipped_by_kind
    """
    from edgeaudit.bundle import load_bundle

    options = ExtractOptions(threads=threads, batch_tokens=batch_tokens, pooling=pooling, optimization=optimization,
                             overwrite=overwrite, progress=not quiet)
    bundle = load_bundle(bundle_dir)  # a bad bundle fails before the data is read

    sentences, data_report = _open_corpus(data_spec)
    result = extract_to_directory(bundle, sentences, out_dir, options, data=data_report)
    skipped = _skip_summary(result)
    if skipped:
        click.echo(skipped, err=True)
    if as_json:
        click.echo(_json_summary(result, out_dir))
    else:
        _print_result(result, out_dir)
