"""Typed options of ``edgeaudit export``; the CLI maps one-to-one onto this dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass

EXPORTERS = ("dynamo", "torchscript")
BACKENDS = ("torch", "optimum")


@dataclass(frozen=True)
class ExportOptions:
    opset: int = 18
    exporter: str = "dynamo"  # torch.onnx route: "dynamo" (torch.export) or "torchscript" (faster, legacy)
    backend: str = "torch"  # "torch" (our wrapper) or "optimum" (optimum-onnx main_export)
    max_length: int | None = None  # None: the model's position limit (capped by the tokenizer's)
    verify: bool = True
    tolerance: float = 1e-4
    random_init: bool = False
    seed: int = 0
    force: bool = False
    trust_remote_code: bool = False
    tokenizer: str | None = None  # a folder or tokenizer.json to use instead of the checkpoint's own

    def __post_init__(self) -> None:
        from edgeaudit.errors import EdgeAuditError

        if self.exporter not in EXPORTERS:
            raise EdgeAuditError(f"option --exporter: {self.exporter!r} is not one of {', '.join(EXPORTERS)}")
        if self.backend not in BACKENDS:
            raise EdgeAuditError(f"option --backend: {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if not 14 <= self.opset <= 23:
            raise EdgeAuditError(f"option --opset: {self.opset} is outside the supported range 14..23")
        if self.max_length is not None and self.max_length < 2:
            raise EdgeAuditError(f"option --max-length: {self.max_length} is too small (at least 2)")
        if not self.tolerance > 0:
            raise EdgeAuditError(f"option --tolerance: {self.tolerance} must be positive")

    def to_dict(self) -> dict:
        return asdict(self)
