"""Keep onnxruntime's Python quantisation tools from rewriting the process's logging.

``onnxruntime.quantization.matmul_nbits_quantizer`` calls ``logging.basicConfig(level=INFO)`` when it is
imported and the quantisers log through the root logger, so importing or running them would flood stderr
(and any host application's logs) with per-node INFO lines; sessions they create (calibration) log
kernel failures from C++ that we already turn into one-line errors. Everything they do runs inside
:func:`quiet_onnxruntime`, which restores the root logger and onnxruntime's default severity afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

import onnxruntime as ort

_NOISY = ("onnxruntime", "onnxruntime.quantization", "onnxruntime.transformers")
_ORT_DEFAULT_SEVERITY = 2  # onnxruntime's default (warning); it offers no getter to save the current value
_ORT_FATAL_ONLY = 4


@contextlib.contextmanager
def quiet_onnxruntime() -> Iterator[None]:
    """Silence Python-side onnxruntime logging below ERROR; undo any ``basicConfig`` done meanwhile."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    loggers = {name: logging.getLogger(name) for name in _NOISY}
    saved_levels = {name: logger.level for name, logger in loggers.items()}
    root.setLevel(logging.ERROR)
    for logger in loggers.values():
        logger.setLevel(logging.ERROR)
    ort.set_default_logger_severity(_ORT_FATAL_ONLY)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        ort.set_default_logger_severity(_ORT_DEFAULT_SEVERITY)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, logger in loggers.items():
            logger.setLevel(saved_levels[name])
