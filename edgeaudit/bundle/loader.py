"""Open a bundle directory and prove it is usable before any command relies on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgeaudit.bundle.manifest import MANIFEST_NAME, Manifest, _check_relative, load_manifest
from edgeaudit.bundle.model_file import model_sha256
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
    _check_tap_shapes(bundle, {out.name: out for out in model.graph.output})
    _check_external_locations(bundle, model)


def _check_tap_shapes(bundle: Bundle, outputs: dict) -> None:
    """Tap ranks, and the hidden size where the graph states it, must be what the manifest promises."""
    manifest = bundle.manifest
    wanted = [(name, 4, None) for name in manifest.attention_taps]
    wanted += [(name, 3, manifest.hidden_size) for name in manifest.hidden_state_taps]
    for name, rank, last in wanted:
        tensor_type = outputs[name].type.tensor_type
        if not tensor_type.HasField("shape"):
            continue  # shape not recorded: nothing to compare
        dims = tensor_type.shape.dim
        if len(dims) != rank:
            raise BundleError(
                f"{bundle.onnx_path}: output {name} has rank {len(dims)}, expected {rank} "
                f"({'[batch, head, query, key]' if rank == 4 else '[batch, seq, hidden]'})",
                hint="this model's outputs are not transformer taps; re-export or re-tap the bundle",
            )
        if last is not None and dims[-1].HasField("dim_value") and dims[-1].dim_value != last:
            raise BundleError(
                f"{bundle.onnx_path}: output {name} has hidden size {dims[-1].dim_value}, but the manifest's "
                f"model.hidden_size is {last}", hint="the manifest and the model disagree; re-export the bundle",
            )


def _check_external_locations(bundle: Bundle, model) -> None:
    """Tensors stored outside model.onnx must name files inside the bundle (onnxruntime would read any path)."""
    from onnx import TensorProto

    for tensor in _tensors(model.graph):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "")
        try:
            _check_relative(location, f"external data of tensor {tensor.name!r}", str(bundle.onnx_path))
        except BundleError:
            raise BundleError(
                f"{bundle.onnx_path}: tensor {tensor.name!r} keeps its data in {location!r}, outside the bundle",
                hint="weights may only come from files inside the bundle directory; re-export the bundle",
            ) from None
        if not (bundle.directory / location).is_file():
            raise BundleError(
                f"{bundle.onnx_path}: tensor {tensor.name!r} keeps its data in {location!r}, which is not in the bundle",
                hint="copy the external data file next to the model, or re-export the bundle",
            )
        real = (bundle.directory / location).resolve()
        if not real.is_relative_to(bundle.directory.resolve()):
            raise BundleError(
                f"{bundle.onnx_path}: tensor {tensor.name!r} keeps its data in {location!r}, a link to {real}, "
                "outside the bundle", hint="copy the external data file into the bundle instead of linking to it",
            )


def _check_contained(bundle: Bundle, manifest_path: Path) -> None:
    """Every file the manifest names must *be* inside the bundle, symlinks resolved: the name check alone lets
    ``model.onnx -> /elsewhere/model.onnx`` read (and hash) a file the bundle does not hold."""
    root = bundle.directory.resolve()
    named = [("onnx.file", bundle.onnx_path), ("tokenizer.file", bundle.tokenizer_path)]
    named += [("onnx.external_data", bundle.directory / name) for name in bundle.manifest.data["onnx"]["external_data"]]
    for field, path in named:
        real = path.resolve()
        if not real.is_relative_to(root):
            raise BundleError(f"{manifest_path}: field '{field}' names {path.name}, a link to {real}, outside the bundle",
                              hint="copy the file into the bundle directory instead of linking to it")


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
    _check_contained(bundle, manifest_path)
    if verify_hash:
        external = bundle.manifest.data["onnx"]["external_data"]
        actual = model_sha256(directory, bundle.manifest.onnx_file, external)
        if actual != bundle.sha256:
            files = " + ".join([bundle.onnx_path.name, *external])
            raise BundleError(
                f"{manifest_path}: field 'onnx.sha256' does not match {files} "
                f"(hashes to {actual[:12]}…, manifest says {bundle.sha256[:12]}…)",
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
    _check_tokenizer_settings(bundle)
    if check_graph:
        _check_graph_outputs(bundle)
    return bundle


def _check_tokenizer_settings(bundle: Bundle) -> None:
    """The tokenizer file must be the one the manifest describes (same kind, same special-token ids)."""
    from edgeaudit.bundle.build import tokenizer_settings

    settings = bundle.manifest.tokenizer
    actual = tokenizer_settings(settings["file"], json.loads(bundle.tokenizer_path.read_text(encoding="utf-8")),
                                max_length=2, padding_side="right", pad_token_id=0)
    for field in ("kind", "special_token_ids"):
        if actual[field] != settings[field]:
            raise BundleError(
                f"{bundle.tokenizer_path}: {field} is {actual[field]} but the manifest's tokenizer.{field} is "
                f"{settings[field]}", hint="the tokenizer belongs to another model; copy the checkpoint's own tokenizer.json",
            )


def _tensors(graph):
    """Every tensor of a graph that can hold data: initializers and node attributes, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)
