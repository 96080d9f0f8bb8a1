"""Open a bundle directory and prove it is usable before any command relies on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeaudit.bundle.manifest import MANIFEST_NAME, Manifest, load_manifest, sha256_of
from edgeaudit.errors import BundleError


@dataclass(frozen=True)
class Bundle:
    directory: Path
    manifest: Manifest

    @property
    def onnx_path(self) -> Path:
        return self.directory / self.manifest.onnx_file

    @property
    def tokenizer_path(self) -> Path:
        return self.directory / self.manifest.tokenizer["file"]

    @property
    def sha256(self) -> str:
        return self.manifest.onnx_sha256

    def load_tokenizer(self):
        """The ``tokenizers.Tokenizer`` of this bundle (parsed, not yet configured for padding)."""
        from tokenizers import Tokenizer

        try:
            return Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as exc:  # tokenizers raises a bare Exception subtype on malformed JSON
            raise BundleError(
                f"{self.tokenizer_path}: cannot be read as a tokenizers JSON file ({str(exc).splitlines()[0]})",
                hint="the bundle's tokenizer.json must be a Hugging Face fast-tokenizer file",
            ) from None


def _check_graph_outputs(bundle: Bundle) -> None:
    import onnx

    try:
        model = onnx.load(str(bundle.onnx_path), load_external_data=False)
    except Exception as exc:
        raise BundleError(
            f"{bundle.onnx_path}: not a readable ONNX model ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            hint="re-export the bundle",
        ) from None
    names = {out.name for out in model.graph.output}
    wanted = [*bundle.manifest.attention_taps, *bundle.manifest.hidden_state_taps, bundle.manifest.final_output]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise BundleError(
            f"{bundle.onnx_path}: graph lacks tap output(s) {', '.join(missing[:4])}"
            + (f" and {len(missing) - 4} more" if len(missing) > 4 else ""),
            hint="the manifest and the model disagree; re-export or re-tap the bundle",
        )
    inputs = {inp.name for inp in model.graph.input}
    absent = [name for name in bundle.manifest.inputs if name not in inputs]
    if absent:
        raise BundleError(f"{bundle.onnx_path}: graph lacks input(s) {', '.join(absent)} named in onnx.inputs")


def load_bundle(directory: str | Path, *, verify_hash: bool = True, check_graph: bool = True) -> Bundle:
    """Validate manifest, files, hash, tokenizer/vocabulary agreement and graph outputs; return the bundle."""
    directory = Path(directory)
    if not directory.exists():
        raise BundleError(f"{directory}: no such bundle directory")
    if not directory.is_dir():
        raise BundleError(f"{directory}: is a file, expected a bundle directory containing {MANIFEST_NAME}")
    bundle = Bundle(directory, load_manifest(directory))
    manifest_path = directory / MANIFEST_NAME
    for field, path in (("onnx.file", bundle.onnx_path), ("tokenizer.file", bundle.tokenizer_path)):
        if not path.is_file():
            raise BundleError(f"{manifest_path}: field '{field}' names {path.name}, which is not in the bundle")
    for name in bundle.manifest.data["onnx"]["external_data"]:
        if not (directory / name).is_file():
            raise BundleError(f"{manifest_path}: external data file {name} is missing from the bundle")
    if verify_hash:
        actual = sha256_of(bundle.onnx_path)
        if actual != bundle.sha256:
            raise BundleError(
                f"{manifest_path}: field 'onnx.sha256' does not match {bundle.onnx_path.name} "
                f"(file hashes to {actual[:12]}…, manifest says {bundle.sha256[:12]}…)",
                hint="the model file was changed or replaced after export; re-export the bundle",
            )
    tokenizer = bundle.load_tokenizer()
    model_vocab = int(bundle.manifest.data["model"]["vocab_size"])
    tokenizer_vocab = tokenizer.get_vocab_size(with_added_tokens=True)
    if tokenizer_vocab > model_vocab:
        raise BundleError(
            f"{bundle.tokenizer_path}: tokenizer has {tokenizer_vocab} tokens but the model's vocabulary "
            f"(model.vocab_size) has {model_vocab}",
            hint="the tokenizer belongs to another model; copy the checkpoint's own tokenizer.json",
        )
    if check_graph:
        _check_graph_outputs(bundle)
    return bundle
