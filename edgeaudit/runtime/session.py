"""One onnxruntime session per bundle, configured for predictable CPU use on small devices.

Threads are explicit (intra-op = cores, inter-op = 1) and intra-op spinning is off: on a 2-4 core board a
spinning pool steals the cores that tokenisation and pooling need between runs. Only the outputs asked for
are fetched, so a run that needs hidden states does not copy layers x heads x seq^2 attention floats.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from edgeaudit.bundle import Bundle
from edgeaudit.errors import BundleError, EdgeAuditError

OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")
SUPPORTED_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")


def release_freed_memory() -> None:
    """Hand memory freed by a closed session back to the system (glibc's ``malloc_trim``; a no-op elsewhere).

    glibc keeps freed heap pages mapped for reuse. After a session over SmolLM2 closes, its prepacked weights and
    activation buffers (about 550 MB) stayed in the process for the rest of an audit, and the next stage's session
    came on top: RSS after extraction 743 MB, after the trim 194 MB.
    """
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc (musl, macOS): nothing to trim, nothing lost
        pass


#: glibc's ``mallopt`` parameter number for the mmap threshold
M_MMAP_THRESHOLD = -3
#: allocations from this size up are mapped on their own and unmapped when freed
MMAP_THRESHOLD_BYTES = 1 << 20


def map_large_blocks() -> bool:
    """Serve allocations of 1 MiB and more by mmap from now on (glibc's ``mallopt``; elsewhere a no-op, False).

    glibc raises its mmap threshold each time a mapped block is freed, up to 32 MiB, after which activation-sized
    arrays (a batch's outputs, a sentence's stacked attention) come from the heap and their pages stay in the
    process between batches. A fixed threshold stops that: SmolLM2's extraction of 500 sentences peaked 29 MB
    lower (812 → 783 MiB) at the same speed.
    """
    import ctypes

    try:
        return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (AttributeError, OSError):  # not glibc
        return False


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total, inside containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SessionOptions:
    threads: int | None = None  # intra-op threads; None = available cores
    optimization: str = "extended"  # onnxruntime graph optimisation level

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise EdgeAuditError(f"option --threads: {self.threads} must be at least 1")
        if self.optimization not in OPTIMIZATION_LEVELS:
            raise EdgeAuditError(
                f"option optimization: {self.optimization!r} is not one of {', '.join(OPTIMIZATION_LEVELS)}"
            )


def model_feeds(inputs: Collection[str], input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
    """Inputs for one batch: ids/mask [batch, seq] int64 plus zeros / mask-derived positions for whichever of
    ``token_type_ids`` / ``position_ids`` the graph lists — the one place model inputs are built."""
    feeds = {"input_ids": input_ids.astype(np.int64, copy=False),
             "attention_mask": attention_mask.astype(np.int64, copy=False)}
    if "token_type_ids" in inputs:
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
    if "position_ids" in inputs:
        feeds["position_ids"] = np.clip(np.cumsum(feeds["attention_mask"], axis=1) - 1, 0, None)
    return {name: feeds[name] for name in inputs}


def _ort_options(options: SessionOptions):
    import onnxruntime as ort

    levels = {
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    so = ort.SessionOptions()
    so.intra_op_num_threads = options.threads or available_cores()
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.graph_optimization_level = levels[options.optimization]
    # 4 = fatal only: warnings about unused initialisers are noise, and a failed run is reported by the caller
    # as one line (onnxruntime would also print its own coloured copy of it)
    so.log_severity_level = 4
    return so


def _without_logits(bundle: Bundle, fetches: Collection[str] | None) -> bytes | None:
    """The bundle's graph without its logits output when no caller will fetch them, else None (use the file).

    onnxruntime computes every graph output whether it is fetched or not; a decoder's vocabulary-wide logits are
    the costliest: on SmolLM2, 18% of a forward, 126 MB of activations per 640-token batch, and 113 MB of lm_head
    weights. Without the output, onnxruntime drops the nodes and weights that only fed it.
    """
    import onnx

    taps = bundle.manifest.data["taps"]
    if fetches is None or taps.get("final_output_kind") != "logits" or taps["final_output"] in fetches:
        return None
    from onnx.utils import Extractor

    model = onnx.load(str(bundle.onnx_path), load_external_data=False)  # the graph alone when weights are beside it
    kept = [output.name for output in model.graph.output if output.name in fetches]
    # onnxruntime keeps nodes whose results nobody reads, so the graph is cut to what the kept outputs need
    pruned = Extractor(model).extract_model([i.name for i in model.graph.input], kept)
    return pruned.SerializeToString()


class ModelSession:
    """``run(input_ids, attention_mask, outputs)`` on a bundle's ONNX model; builds the extra inputs it lists.

    ``fetches``: every output the caller will ask for, when known; a decoder's logits are then left out of the
    graph if they are not among them (:func:`_without_logits`).
    """

    def __init__(self, bundle: Bundle, options: SessionOptions | None = None, *,
                 fetches: Collection[str] | None = None):
        import onnxruntime as ort

        self.options = options or SessionOptions()
        self.inputs = bundle.manifest.inputs
        unknown = [name for name in self.inputs if name not in SUPPORTED_INPUTS]
        if unknown:
            raise BundleError(
                f"{bundle.directory / 'edgeaudit.json'}: field 'onnx.inputs' lists {', '.join(unknown)}, which the "
                f"runtime cannot fill (supported: {', '.join(SUPPORTED_INPUTS)})"
            )
        self.threads = self.options.threads or available_cores()
        map_large_blocks()  # before the first batch: every model run's outputs are large blocks
        try:
            so = _ort_options(self.options)
            graph = _without_logits(bundle, fetches)
            if graph is not None:  # from bytes: external weights are found through the bundle's folder
                so.add_session_config_entry("session.model_external_initializers_file_folder_path",
                                            str(bundle.directory))
            self._session = ort.InferenceSession(
                graph if graph is not None else str(bundle.onnx_path), so, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's load errors (Fail, InvalidGraph, ...) all derive from Exception
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BundleError(f"{bundle.onnx_path}: onnxruntime cannot load the model ({first})",
                              hint="re-export the bundle; the graph may use operators this onnxruntime lacks") from None
        self.output_names = {out.name for out in self._session.get_outputs()}
        self._onnx_path = bundle.onnx_path
        self._max_length = bundle.manifest.tokenizer["max_length"]
        manifest = bundle.manifest
        # what each tap must look like; graphs often leave head counts symbolic, so only a run can tell
        self._expected = {name: ("attention", manifest.num_heads) for name in manifest.attention_taps}
        self._expected |= {name: ("hidden", manifest.hidden_size) for name in manifest.hidden_state_taps}

    def close(self) -> None:
        """Drop the onnxruntime session and return its memory to the system before the next stage's work."""
        self._session = None
        release_freed_memory()

    def __enter__(self) -> ModelSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def feeds(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        """Inputs for one batch (:func:`model_feeds` for this bundle's inputs)."""
        return model_feeds(self.inputs, input_ids, attention_mask)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, outputs: list[str]) -> dict[str, np.ndarray]:
        """Fetch exactly ``outputs`` (graph output names) for one batch."""
        if not outputs:
            raise ValueError("ModelSession.run needs at least one output name (an empty list fetches all)")
        if self._session is None:
            raise ValueError("ModelSession.run after close()")
        missing = [name for name in outputs if name not in self.output_names]
        if missing:
            raise BundleError(f"model has no output(s) {', '.join(missing)}", hint="re-export or re-tap the bundle")
        try:
            values = self._session.run(outputs, self.feeds(input_ids, attention_mask))
        except Exception as exc:  # onnxruntime's Fail/InvalidArgument/RuntimeException all derive from Exception
            first = " ".join((str(exc).strip().splitlines() or [type(exc).__name__])[0].split())
            batch, seq = input_ids.shape
            raise BundleError(
                f"{self._onnx_path}: onnxruntime failed on a batch of {batch} sentence(s) x {seq} tokens ({first[:300]})",
                hint=f"if it fails only on long inputs, the graph takes fewer positions than the manifest's "
                     f"tokenizer.max_length ({self._max_length}) promises; re-export or re-tap the bundle",
            ) from None
        for name, value in zip(outputs, values, strict=True):
            self._check_tap(name, value, input_ids.shape)
        return dict(zip(outputs, values, strict=True))

    def _check_tap(self, name: str, value: np.ndarray, ids_shape: tuple[int, ...]) -> None:
        """A tap whose shape contradicts the manifest is a lying manifest: say which field, before any statistic."""
        kind, size = self._expected.get(name, (None, None))
        if kind is None:
            return
        batch, seq = ids_shape
        if kind == "attention":
            want, field = (batch, size, seq, seq), "model.num_heads"
        else:
            want, field = (batch, seq, size), "model.hidden_size"
        if tuple(value.shape) != want:
            got = ("heads" if kind == "attention" else "hidden size",
                   value.shape[1] if kind == "attention" and value.ndim == 4 else value.shape[-1] if value.ndim else None)
            raise BundleError(
                f"{self._onnx_path}: output {name} has shape {list(value.shape)} ({got[0]} {got[1]}), but the "
                f"manifest's {field} is {size} (expected {list(want)})",
                hint="the manifest and the model disagree; re-export or re-tap the bundle")
