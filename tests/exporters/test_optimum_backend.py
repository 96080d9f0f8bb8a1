"""``--backend optimum``: optimum-onnx's main_export with renamed taps, checked against PyTorch and our backend.

The ``optimum``-marked tests need the second environment (transformers 4.57 + optimum-onnx, see
requirements/optimum.txt): ``.venv-optimum/bin/python -m pytest -m optimum``. The missing-extra tests run
everywhere, simulating the absence of optimum where it is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edgeaudit.errors import MissingExtraError

SEQ_TOL = 1e-5  # taps of two exports of one checkpoint, or of an export and PyTorch
ENCODERS = ("bert", "roberta")
DECODERS = ("gpt2", "llama")


def _hide_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import optimum.exporters.onnx`` fail as it does where optimum-onnx is not installed."""
    for name in [m for m in sys.modules if m == "optimum" or m.startswith("optimum.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "optimum", None)


def test_missing_optimum_raises_install_hint(monkeypatch, tmp_path):
    from edgeaudit.exporters.export import export_checkpoint
    from edgeaudit.exporters.options import ExportOptions

    _hide_optimum(monkeypatch)
    out = tmp_path / "bundle"
    # The model directory does not exist: the missing extra must be reported before the checkpoint is read.
    with pytest.raises(MissingExtraError) as info:
        export_checkpoint(tmp_path / "no-such-model", out, ExportOptions(backend="optimum"), log=lambda _: None)
    text = info.value.one_line()
    assert "\n" not in text
    assert "optimum-onnx is not installed" in text
    assert "transformers<4.58" in text
    assert "pip install torch==2.13.0" in text
    assert "pip install -r requirements/optimum.txt" in text
    assert "pip install --no-deps -e ." in text
    assert not out.exists()


def test_cli_backend_optimum_without_optimum_exits_2(monkeypatch, tmp_path, capsys):
    from edgeaudit.cli import main

    _hide_optimum(monkeypatch)
    code = main(["export", str(tmp_path / "model"), str(tmp_path / "bundle"), "--backend", "optimum"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("edgeaudit: error: --backend optimum: optimum-onnx is not installed")
    assert err.count("\n") == 1 and "requirements/optimum.txt" in err


# --- the second environment -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def optimum_bundle(tiny_checkpoint, tmp_path_factory):
    """Factory: ``optimum_bundle("gpt2")`` -> Bundle exported with --backend optimum (cached per family)."""
    pytest.importorskip("optimum.exporters.onnx", reason="optimum-onnx is not installed (see requirements/optimum.txt)")
    from edgeaudit.exporters.export import export_checkpoint
    from edgeaudit.exporters.options import ExportOptions

    cache = {}

    def make(family: str):
        if family not in cache:
            out = tmp_path_factory.mktemp(f"optimum-{family}") / "bundle"
            cache[family] = export_checkpoint(tiny_checkpoint(family), out, ExportOptions(backend="optimum"),
                                              log=lambda _: None)
        return cache[family]

    return make


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _batch(bundle, padding_side: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    from edgeaudit.exporters.verify import verification_batch

    tok = bundle.manifest.tokenizer
    return verification_batch([2, 5, 11], vocab_size=int(bundle.manifest.data["model"]["vocab_size"]),
                              pad_id=tok["pad_token_id"], padding_side=padding_side or tok["padding_side"],
                              special_ids=tok["special_token_ids"], seed=7)


def _run(bundle, ids: np.ndarray, mask: np.ndarray, **override: np.ndarray) -> dict[str, np.ndarray]:
    """All taps of ``bundle`` for one batch, fed the way the runtime feeds it (plus ``override``)."""
    from edgeaudit.exporters.optimum_backend import extra_inputs_for

    session = _session(bundle.onnx_path)
    feeds = {"input_ids": ids, "attention_mask": mask, **extra_inputs_for(bundle.manifest.inputs)(ids, mask)}
    feeds.update(override)
    feeds = {name: feeds[name] for name in bundle.manifest.inputs}
    names = [*bundle.manifest.hidden_state_taps, *bundle.manifest.attention_taps]
    if bundle.manifest.final_output not in names:
        names.append(bundle.manifest.final_output)
    return dict(zip(names, session.run(names, feeds), strict=True))


def _max_diff_real(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Max |a-b| at real positions (padded rows and key columns are never read by the runtime)."""
    rows = mask.astype(bool)
    if a.ndim == 4:  # attention [batch, head, query, key]
        sel = np.broadcast_to(rows[:, None, :, None] & rows[:, None, None, :], a.shape)
    else:
        sel = np.broadcast_to(rows[:, :, None], a.shape)
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64))[sel].max())


@pytest.mark.optimum
@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
def test_bundle_loads_with_all_taps_and_passes_verification(optimum_bundle, family):
    import onnx

    from edgeaudit.bundle import load_bundle

    bundle = load_bundle(optimum_bundle(family).directory)
    manifest = bundle.manifest
    layers = manifest.num_layers
    assert layers == 2
    assert manifest.hidden_state_taps == [f"hidden_state_{i}" for i in range(layers + 1)]
    assert manifest.attention_taps == [f"attention_{i}" for i in range(layers)]
    assert manifest.data["onnx"]["exporter"].startswith("optimum-onnx 0.")
    assert manifest.variant == "fp32"
    graph = onnx.load(str(bundle.onnx_path))
    outputs = [out.name for out in graph.graph.output]
    inputs = [inp.name for inp in graph.graph.input]
    assert not [name for name in outputs if "." in name], "optimum's dotted names must all be renamed"
    assert set(manifest.hidden_state_taps + manifest.attention_taps) <= set(outputs)
    assert manifest.inputs == inputs
    if family == "bert":
        assert (manifest.final_output, manifest.data["taps"]["final_output_kind"]) == ("hidden_state_2",
                                                                                       "last_hidden_state")
        assert inputs == ["input_ids", "attention_mask", "token_type_ids"]
    else:
        assert (manifest.final_output, manifest.data["taps"]["final_output_kind"]) == ("logits", "logits")
        assert inputs == ["input_ids", "attention_mask", "position_ids"]
    check = manifest.data["export_check"]
    assert check["verified"] is True
    assert max(check["max_abs_diff"].values()) <= 1e-4
    versions = manifest.data["provenance"]["tool_versions"]
    assert versions["optimum-onnx"] and versions["transformers"].startswith("4.")


@pytest.mark.optimum
@pytest.mark.parametrize("family", ENCODERS)
def test_encoder_taps_equal_torch_backend_export(optimum_bundle, tiny_checkpoint, tmp_path, family):
    """Both routes export the same checkpoint; on one batch every tap agrees to float precision."""
    from edgeaudit.exporters.export import export_checkpoint
    from edgeaudit.exporters.options import ExportOptions

    ours = export_checkpoint(tiny_checkpoint(family), tmp_path / "torch", ExportOptions(exporter="torchscript"),
                             log=lambda _: None)
    theirs = optimum_bundle(family)
    ids, mask = _batch(theirs)
    want, got = _run(ours, ids, mask), _run(theirs, ids, mask)
    assert set(want) == set(got)
    for name in want:
        assert want[name].shape == got[name].shape, name
        assert _max_diff_real(want[name], got[name], mask) <= SEQ_TOL, name


def _pytorch_taps(checkpoint_dir: Path, ids: np.ndarray, mask: np.ndarray, position_ids: np.ndarray | None):
    import torch
    import transformers as tf

    model = tf.AutoModelForCausalLM.from_pretrained(checkpoint_dir, attn_implementation="eager").eval()
    kwargs = {} if position_ids is None else {"position_ids": torch.from_numpy(position_ids)}
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), use_cache=False,
                    output_hidden_states=True, output_attentions=True, return_dict=True, **kwargs)
    taps = {f"hidden_state_{i}": t.numpy() for i, t in enumerate(out.hidden_states)}
    taps |= {f"attention_{i}": t.numpy() for i, t in enumerate(out.attentions)}
    taps["logits"] = out.logits.numpy()
    return taps


@pytest.mark.optimum
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("family", DECODERS)
def test_decoder_taps_equal_pytorch(optimum_bundle, tiny_checkpoint, family, padding_side):
    """Our TorchScript route fails for decoders under transformers 4.57 (unordered_map::at), so compare
    against PyTorch directly, fed the positions the runtime feeds (counted over real tokens)."""
    from edgeaudit.exporters.optimum_backend import position_ids_for

    bundle = optimum_bundle(family)
    ids, mask = _batch(bundle, padding_side)
    want = _pytorch_taps(tiny_checkpoint(family), ids, mask, position_ids_for(mask))
    got = _run(bundle, ids, mask)
    assert set(got) == set(want)
    for name in want:
        assert want[name].shape == got[name].shape, name
        assert _max_diff_real(want[name], got[name], mask) <= SEQ_TOL, name


@pytest.mark.optimum
def test_position_ids_input_is_used(optimum_bundle, tiny_checkpoint):
    """GPT-2's positions are absolute: shifted position_ids must change the taps exactly as in PyTorch."""
    bundle = optimum_bundle("gpt2")
    ids, mask = _batch(bundle, "right")
    shifted = np.where(mask.astype(bool), np.cumsum(mask, axis=1) - 1 + 5, 0).astype(np.int64)
    got = _run(bundle, ids, mask, position_ids=shifted)
    want = _pytorch_taps(tiny_checkpoint("gpt2"), ids, mask, shifted)
    unshifted = _run(bundle, ids, mask)
    assert _max_diff_real(want["hidden_state_0"], got["hidden_state_0"], mask) <= SEQ_TOL
    assert _max_diff_real(want["logits"], got["logits"], mask) <= SEQ_TOL
    assert _max_diff_real(unshifted["hidden_state_0"], got["hidden_state_0"], mask) > 1e-3


@pytest.mark.optimum
@pytest.mark.parametrize("family", ["bert", "llama"])
def test_runtime_feeds_what_verification_fed(optimum_bundle, family):
    """Verification fed the extra inputs the device runtime computes; they must stay the same formula."""
    session_module = pytest.importorskip("edgeaudit.runtime.session")
    from edgeaudit.exporters.optimum_backend import extra_inputs_for

    bundle = optimum_bundle(family)
    ids, mask = _batch(bundle)
    runtime = session_module.ModelSession(bundle).feeds(ids, mask)
    ours = {"input_ids": ids, "attention_mask": mask, **extra_inputs_for(bundle.manifest.inputs)(ids, mask)}
    assert list(runtime) == bundle.manifest.inputs
    for name in runtime:
        np.testing.assert_array_equal(runtime[name], ours[name], err_msg=name)


@pytest.mark.optimum
def test_random_init_twin(optimum_bundle, tiny_checkpoint, tmp_path):
    from edgeaudit.exporters.export import export_checkpoint
    from edgeaudit.exporters.options import ExportOptions

    twin = export_checkpoint(tiny_checkpoint("gpt2"), tmp_path / "twin",
                             ExportOptions(backend="optimum", random_init=True, seed=3), log=lambda _: None)
    assert twin.manifest.variant == "random-init"
    assert twin.manifest.data["variant"]["settings"] == {"seed": 3}
    assert twin.manifest.data["export_check"]["verified"] is True
    assert not (twin.directory / ".optimum-scratch").exists()
    ids, mask = _batch(twin)
    trained = _run(optimum_bundle("gpt2"), ids, mask)
    random = _run(twin, ids, mask)
    assert _max_diff_real(trained["hidden_state_1"], random["hidden_state_1"], mask) > 1e-3


@pytest.mark.optimum
def test_external_data_is_moved_into_the_bundle(tiny_checkpoint, tmp_path, monkeypatch):
    """Models over 2 GB get ``model.onnx_data``; optimum's switch forces that layout on a tiny one."""
    pytest.importorskip("optimum.exporters.onnx", reason="optimum-onnx is not installed")
    from edgeaudit.exporters.export import export_checkpoint
    from edgeaudit.exporters.options import ExportOptions

    from edgeaudit.bundle import load_bundle

    monkeypatch.setenv("FORCE_ONNX_EXTERNAL_DATA", "1")
    bundle = export_checkpoint(tiny_checkpoint("bert"), tmp_path / "ext", ExportOptions(backend="optimum"),
                               log=lambda _: None)
    assert bundle.manifest.data["onnx"]["external_data"] == ["model.onnx_data"]
    assert sorted(p.name for p in bundle.directory.iterdir()) == [
        "edgeaudit.json", "model.onnx", "model.onnx_data", "tokenizer.json"]
    load_bundle(bundle.directory)
    ids, mask = _batch(bundle)
    assert np.isfinite(_run(bundle, ids, mask)["hidden_state_2"]).all()


@pytest.mark.optimum
def test_unsupported_task_is_one_line_export_error():
    pytest.importorskip("optimum.exporters.onnx", reason="optimum-onnx is not installed")
    from edgeaudit.exporters.optimum_backend import tapped_onnx_config
    from optimum.exporters.tasks import TasksManager

    from edgeaudit.errors import ExportError

    class FakeConfig:
        model_type = "no-such-model-type"

    with pytest.raises(ExportError, match="optimum-onnx cannot export model_type 'no-such-model-type'"):
        tapped_onnx_config(TasksManager, FakeConfig(), task="feature-extraction", num_layers=2, decoder=False)
