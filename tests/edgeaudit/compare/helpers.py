"""Deliberately broken variants of a tiny bundle: real bundles (re-hashed manifest) with attention rewired."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
from onnx import helper

from edgeaudit.bundle import load_bundle, save_manifest, sha256_of


def _rehashed(bundle_dir: Path, out_dir: Path, model: onnx.ModelProto, name: str, settings: dict) -> Path:
    parent = load_bundle(bundle_dir)
    shutil.copytree(bundle_dir, out_dir)
    onnx.save_model(model, str(out_dir / parent.manifest.onnx_file))
    manifest = parent.manifest.with_updates(
        onnx={**parent.manifest.data["onnx"], "sha256": sha256_of(out_dir / parent.manifest.onnx_file)},
        variant={"name": name, "settings": settings, "parent_sha256": parent.sha256},
    )
    save_manifest(out_dir, manifest)
    load_bundle(out_dir)  # a proper bundle
    return out_dir


def previous_token_variant(bundle_dir: Path, out_dir: Path, *, layers: tuple[int, ...], strength: float = 50.0) -> Path:
    """Copy of the bundle whose attention in ``layers`` is forced onto the previous token.

    Before each chosen Softmax, ``strength`` is added to the score of key i-1 for query i (an ``EyeLike``
    with k=-1 built from the scores' own [query, key] shape), so every head of those layers becomes the
    fixed-offset (-1) baseline. Taps before the first chosen layer stay bit-identical.
    """
    bundle = load_bundle(bundle_dir)
    model = onnx.load(str(bundle.onnx_path))
    graph = model.graph
    softmaxes = [n for n in graph.node if n.op_type == "Softmax" and n.output[0] in
                 {bundle.manifest.attention_taps[layer] for layer in layers}]
    assert len(softmaxes) == len(layers), "expected one Softmax per attention tap"
    nodes = list(graph.node)
    graph.initializer.append(onnx.numpy_helper.from_array(__import__("numpy").array(0, dtype="int64"), "shift_zero"))
    graph.initializer.append(onnx.numpy_helper.from_array(__import__("numpy").array(strength, dtype="float32"),
                                                          "shift_strength"))
    for i, softmax in enumerate(softmaxes):
        scores = softmax.input[0]  # [batch, head, query, key]
        p = f"shift{i}_"
        new = [
            helper.make_node("Gather", [scores, "shift_zero"], [p + "h"], axis=0),  # [head, query, key]
            helper.make_node("Gather", [p + "h", "shift_zero"], [p + "qk"], axis=0),  # [query, key]
            helper.make_node("EyeLike", [p + "qk"], [p + "eye"], k=-1),
            helper.make_node("Mul", [p + "eye", "shift_strength"], [p + "bias"]),
            helper.make_node("Add", [scores, p + "bias"], [p + "scores"]),
        ]
        softmax.input[0] = p + "scores"
        position = nodes.index(softmax)
        nodes[position:position] = new
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return _rehashed(bundle_dir, out_dir, model, "previous-token",
                     {"layers": list(layers), "strength": strength})
