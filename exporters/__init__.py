"""The workstation side: local Hugging Face checkpoint -> tapped ONNX bundle (needs the [export] extra).

Public surface:
    export_checkpoint(model_dir, out_dir, ExportOptions(...)) -> Bundle
    tap_onnx(...)  (see exporters.tap) — taps for an existing ONNX file, onnx only, no torch
"""

from edgeaudit.exporters.options import ExportOptions

__all__ = ["ExportOptions", "export_checkpoint"]


def export_checkpoint(*args, **kwargs):
    """Lazy re-export so ``import exporters`` stays cheap (torch loads on first use)."""
    from edgeaudit.exporters.extras import require_export_extra

    require_export_extra()  # one line naming the extra, not a traceback on `import torch`
    from edgeaudit.exporters.export import export_checkpoint as _export

    return _export(*args, **kwargs)
