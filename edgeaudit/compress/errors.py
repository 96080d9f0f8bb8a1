"""The one error type of ``edgeaudit compress``: a user-fixable problem, explained in one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from edgeaudit.errors import EdgeAuditError, MissingExtraError

# Import name -> distribution name, where they differ (pip wants the latter).
_DISTRIBUTIONS = {"onnx_ir": "onnx-ir", "onnxruntime": "onnxruntime", "sklearn": "scikit-learn", "yaml": "pyyaml"}


class CompressError(EdgeAuditError):
    """A bundle cannot be compressed with the requested preset (bad preset, calibration, or a lost tap)."""


@contextlib.contextmanager
def missing_module_named(preset: str) -> Iterator[None]:
    """Turn an ImportError from a quantiser's lazy imports into one line naming what to install.

    onnxruntime's quantisers import optional packages only when a preset runs (int4 needs ``onnx_ir``),
    so a thin device install fails there, not at start-up.
    """
    try:
        yield
    except ImportError as exc:
        module = (exc.name or str(exc)).split(".")[0]
        package = _DISTRIBUTIONS.get(module, module.replace("_", "-"))
        raise MissingExtraError(
            f"compress --preset {preset} needs the Python module {module!r}, which cannot be imported",
            hint=f"pip install {package} (or reinstall edgeaudit, whose dependencies include it)",
        ) from None
