"""edgeaudit: do the explanations of a transformer hold up on the device it ships on?

The device side. Imports numpy, onnxruntime, tokenizers, scikit-learn, scipy, click, tqdm and
``probes`` only — never torch or transformers (the workstation side lives in ``exporters``).
"""

__version__ = "0.1.0"
