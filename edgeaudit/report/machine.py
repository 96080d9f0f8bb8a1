"""The machine a result was measured on: CPU model, the SIMD features int8 kernels depend on, core count.

int8 and fp16 speed and numerics on the device depend on which kernels onnxruntime can pick (AVX2/AVX-512/VNNI
on x86, NEON dot-product and i8mm on Arm), so an audit records them next to the tool versions.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# /proc/cpuinfo flag -> the name people know it by (x86 "flags", Arm "Features").
_FEATURES: dict[str, str] = {
    "sse4_2": "SSE4.2",
    "avx": "AVX",
    "avx2": "AVX2",
    "fma": "FMA",
    "f16c": "F16C",
    "avx512f": "AVX512",
    "avx512bw": "AVX512BW",
    "avx512_vnni": "AVX512-VNNI",
    "avx_vnni": "AVX-VNNI",
    "avx512_bf16": "AVX512-BF16",
    "amx_int8": "AMX-INT8",
    "neon": "NEON",
    "asimd": "NEON",
    "asimddp": "NEON-DOTPROD",
    "i8mm": "I8MM",
    "fphp": "FP16",
    "sve": "SVE",
}
_MODEL_KEYS = ("model name", "Model", "Hardware", "cpu model", "Processor")
# Arm Linux names no CPU model in /proc/cpuinfo, only its implementer and part number: (implementer, part) -> core,
# for the cores of the boards edgeaudit targets (Raspberry Pi 3/4/5, Jetson) and common Arm servers.
_ARM_CORES: dict[tuple[str, str], str] = {
    ("0x41", "0xd03"): "Cortex-A53", ("0x41", "0xd04"): "Cortex-A35", ("0x41", "0xd05"): "Cortex-A55",
    ("0x41", "0xd07"): "Cortex-A57", ("0x41", "0xd08"): "Cortex-A72", ("0x41", "0xd09"): "Cortex-A73",
    ("0x41", "0xd0a"): "Cortex-A75", ("0x41", "0xd0b"): "Cortex-A76", ("0x41", "0xd0c"): "Neoverse-N1",
    ("0x41", "0xd0d"): "Cortex-A77", ("0x41", "0xd40"): "Neoverse-V1", ("0x41", "0xd41"): "Cortex-A78",
    ("0x41", "0xd42"): "Cortex-A78AE", ("0x41", "0xd44"): "Cortex-X1", ("0x41", "0xd46"): "Cortex-A510",
    ("0x41", "0xd47"): "Cortex-A710", ("0x41", "0xd48"): "Cortex-X2", ("0x41", "0xd49"): "Neoverse-N2",
    ("0x41", "0xd4b"): "Cortex-A78C", ("0x41", "0xd4f"): "Neoverse-V2", ("0x4e", "0x004"): "NVIDIA Carmel",
}


def _cpuinfo(path: Path) -> tuple[str | None, set[str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, set()
    model, flags, implementer, part = None, set(), None, None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if model is None and key in _MODEL_KEYS and value:
            model = value
        if key in ("flags", "Features") and not flags:
            flags = set(value.split())
        if key == "CPU implementer" and implementer is None:
            implementer = value.lower()
        if key == "CPU part" and part is None:
            part = value.lower()
    core = None
    if implementer and part:
        core = _ARM_CORES.get((implementer, part), f"Arm implementer {implementer} part {part}")
    if core is not None:
        model = f"{model} ({core})" if model else core
    return model, flags


def cpu_features(flags: set[str], machine: str) -> list[str]:
    """The SIMD features among ``flags`` that matter for transformer kernels, by their common names."""
    names = {_FEATURES[flag] for flag in flags if flag in _FEATURES}
    if machine.lower() in ("aarch64", "arm64"):
        names.add("NEON")  # Advanced SIMD is mandatory on AArch64, even where cpuinfo omits it
    if names & {"AVX512-VNNI", "AVX-VNNI"}:
        names.add("VNNI")
    return sorted(names)


def machine_info(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, Any]:
    """CPU model, SIMD features, logical cores and OS, from /proc/cpuinfo where there is one, else ``platform``."""
    model, flags = _cpuinfo(Path(cpuinfo))
    machine = platform.machine()
    return {
        "cpu_model": model or platform.processor() or None,
        "cpu_features": cpu_features(flags, machine),
        "logical_cores": os.cpu_count(),
        "machine": machine,
        "system": platform.system(),
    }
