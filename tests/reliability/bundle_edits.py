"""Ways to break a copy of a good bundle, one function each (used by the bad-input table).

Each edit takes the bundle directory and changes it in place. Edits that replace ``model.onnx`` re-hash it
into the manifest, so that the check under test is reached rather than the sha256 check in front of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST = "edgeaudit.json"
Edit = Callable[[Path], None]


def _manifest(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))


def _save_manifest(bundle: Path, data: dict[str, Any]) -> None:
    (bundle / MANIFEST).write_text(json.dumps(data, indent=2), encoding="utf-8")


def rehash(bundle: Path) -> None:
    data = _manifest(bundle)
    data["onnx"]["sha256"] = hashlib.sha256((bundle / data["onnx"]["file"]).read_bytes()).hexdigest()
    _save_manifest(bundle, data)


def set_field(dotted: str, value: Any) -> Edit:
    """Set ``a.b.c`` in the manifest (adds the key when absent)."""
    def edit(bundle: Path) -> None:
        data = _manifest(bundle)
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
        _save_manifest(bundle, data)
    return edit


def drop_field(dotted: str) -> Edit:
    def edit(bundle: Path) -> None:
        data = _manifest(bundle)
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        del node[last]
        _save_manifest(bundle, data)
    return edit


def delete(name: str) -> Edit:
    return lambda bundle: (bundle / name).unlink()


def write_file(name: str, content: bytes | str, *, rehash_model: bool = False) -> Edit:
    def edit(bundle: Path) -> None:
        path = bundle / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        if rehash_model:
            rehash(bundle)
    return edit


def truncate_model(bundle: Path) -> None:
    path = bundle / "model.onnx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    rehash(bundle)


def _save_graph(bundle: Path, model) -> None:
    import onnx

    onnx.save_model(model, str(bundle / "model.onnx"))
    rehash(bundle)


def _plain_graph(bundle: Path, op: str, domain: str = "", *, tap_ranks: bool = False):
    """A graph whose every manifest output is ``op(input_ids)``: shaped like taps or not at all."""
    from onnx import TensorProto, helper

    data = _manifest(bundle)
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in ("input_ids", "attention_mask")]
    names = data["taps"]["attention"] + data["taps"]["hidden_states"]
    nodes = [helper.make_node(op, ["input_ids"], [name], domain=domain) for name in names]
    outputs = []
    for name in names:
        if not tap_ranks:
            outputs.append(helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]))
        elif name.startswith("attention"):
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 4, "sequence", "sequence"]))
        else:
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "sequence", 32]))
    opsets = [helper.make_opsetid("", 18)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(helper.make_graph(nodes, "not-a-transformer", inputs, outputs), opset_imports=opsets)


def identity_model(bundle: Path) -> None:
    """An ONNX file that is no transformer: one Identity node, none of the tap outputs."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph([helper.make_node("Identity", ["input_ids"], ["y"])], "identity", [x], [y])
    _save_graph(bundle, helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))


def tap_named_identity_model(bundle: Path) -> None:
    """Not a transformer, but its outputs carry the tap names (rank 2 where 4 and 3 are promised)."""
    _save_graph(bundle, _plain_graph(bundle, "Identity"))


def unknown_operator_model(bundle: Path) -> None:
    """Tap-shaped outputs made by an operator onnxruntime does not have."""
    _save_graph(bundle, _plain_graph(bundle, "NoSuchOp", "com.example", tap_ranks=True))


def drop_graph_output(name: str) -> Edit:
    def edit(bundle: Path) -> None:
        import onnx

        model = onnx.load(str(bundle / "model.onnx"))
        kept = [output for output in model.graph.output if output.name != name]
        del model.graph.output[:]
        model.graph.output.extend(kept)
        _save_graph(bundle, model)
    return edit


def external_weights_at(location: str) -> Edit:
    """Move the largest initializer to external data at ``location`` (relative to the model file)."""
    def edit(bundle: Path) -> None:
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(bundle / "model.onnx"))
        tensor = max(model.graph.initializer, key=lambda t: len(t.raw_data))
        values = numpy_helper.to_array(tensor)
        target = Path(location) if Path(location).is_absolute() else bundle / location
        target.write_bytes(values.tobytes())
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", str(values.nbytes))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        _save_graph(bundle, model)
    return edit


def larger_foreign_tokenizer(bundle: Path) -> None:
    """A GPT-2-style byte-level tokenizer (400 tokens) in a BERT bundle (164 embeddings)."""
    from tests.tiny_models import byte_level_tokenizer

    byte_level_tokenizer().save(str(bundle / "tokenizer.json"))


def smaller_foreign_tokenizer(bundle: Path) -> None:
    """A WordPiece tokenizer of another model: fits in the embedding table, but other tokens and specials."""
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordPiece

    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {token: i for i, token in enumerate(specials + list(letters) + [f"##{c}" for c in letters])}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.add_special_tokens(specials)
    tokenizer.save(str(bundle / "tokenizer.json"))


def linked_outside(name: str) -> Edit:
    """Move ``name`` out of the bundle and leave a symlink in its place (the name still looks contained)."""
    def edit(bundle: Path) -> None:
        outside = bundle.parent / f"outside-{name}"
        (bundle / name).replace(outside)
        (bundle / name).symlink_to(outside.resolve())
    return edit
