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
CPU part\t: 0xd0b

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
    assert model == "Raspberry Pi 5 Model B Rev 1.0"
    assert {"NEON", "NEON-DOTPROD", "FP16"} <= set(cpu_features({"asimd", "asimddp", "fphp"}, "aarch64"))
    assert "NEON" in cpu_features(set(), "aarch64")  # mandatory on AArch64 even when cpuinfo is silent


def test_no_cpuinfo_falls_back_to_platform(tmp_path):
    info = machine_info(tmp_path / "missing")
    assert info["cpu_features"] == [] or isinstance(info["cpu_features"], list)
    assert info["machine"]
