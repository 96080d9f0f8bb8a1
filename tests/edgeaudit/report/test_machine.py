"""CPU facts for provenance: the model name and the SIMD features int8 kernels depend on."""

from __future__ import annotations

from edgeaudit.report.machine import cpu_features, machine_info

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni
"""

PI5 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1

Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""


def test_x86_flags_by_their_common_names(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(X86)
    info = machine_info(path)
    assert info["cpu_model"].startswith("Intel(R) Xeon(R) Platinum")
    assert {"AVX2", "AVX512", "AVX512-VNNI", "VNNI"} <= set(info["cpu_features"])
    assert info["logical_cores"] >= 1


def test_arm_features_and_model(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(PI5)
    model = machine_info(path)["cpu_model"]
    assert model == "Raspberry Pi 5 Model B Rev 1.0 (Cortex-A76)"  # Arm names the core only by its part number
    assert {"NEON", "NEON-DOTPROD", "FP16"} <= set(cpu_features({"asimd", "asimddp", "fphp"}, "aarch64"))
    assert "NEON" in cpu_features(set(), "aarch64")  # mandatory on AArch64 even when cpuinfo is silent


def test_an_arm_core_without_a_board_model_is_named_by_its_part(tmp_path):
    """Emulators and most Arm servers print no model line: the core is still named (a Pi 4's Cortex-A72 here)."""
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nFeatures\t: fp asimd crc32\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n")
    assert machine_info(path)["cpu_model"] == "Cortex-A72"
    path.write_text("processor\t: 0\nCPU implementer\t: 0x61\nCPU part\t: 0x022\n")
    assert machine_info(path)["cpu_model"] == "Arm implementer 0x61 part 0x022"


def test_no_cpuinfo_falls_back_to_platform(tmp_path):
    info = machine_info(tmp_path / "missing")
    assert info["cpu_features"] == [] or isinstance(info["cpu_features"], list)
    assert info["machine"]
