"""Per-block quantisation sensitivity of explanations: which block breaks which claim, and the float fallback."""

from edgeaudit.sensitivity.options import SensitivityOptions
from edgeaudit.sensitivity.run import run_sensitivity

__all__ = ["SensitivityOptions", "run_sensitivity"]
