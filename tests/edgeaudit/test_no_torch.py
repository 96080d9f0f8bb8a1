"""The device side never imports torch or transformers: extraction runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

API_SCRIPT = textwrap.dedent("""
    import json, sys
    from edgeaudit.bundle import load_bundle
    from edgeaudit.runtime import SpecialTokenMass, StoredActivations, extract
    bundle = load_bundle(sys.argv[1])
    sentences = [("a", ["The", "cat", "sat", "."]), ("b", ["Dogs", "bark", "!"])]
    summary = extract(bundle, sentences, collectors=[SpecialTokenMass()], store_dir=sys.argv[2], progress=False)
    StoredActivations(sys.argv[2]).layer(1)
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
    print(json.dumps({"extracted": summary.extracted, "heavy": heavy}))
""")

CLI_SCRIPT = textwrap.dedent("""
    import json, sys
    from edgeaudit.cli import main
    code = main(["extract", sys.argv[1], "--data", sys.argv[2], "--out", sys.argv[3], "--quiet"])
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
    print(json.dumps({"code": code, "heavy": heavy}))
""")

CONLLU = """# sent_id = t-1
# text = The cat sat.
1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_
3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

"""


def run_isolated(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_extraction_api_imports_no_torch(tiny_bundle, tmp_path):
    result = run_isolated(API_SCRIPT, str(tiny_bundle("bert")), str(tmp_path / "store"))
    assert result == {"extracted": 2, "heavy": []}


def test_extract_command_imports_no_torch(tiny_bundle, tmp_path):
    data = tmp_path / "tiny.conllu"
    data.write_text(CONLLU, encoding="utf-8")
    result = run_isolated(CLI_SCRIPT, str(tiny_bundle("gpt2")), str(data), str(tmp_path / "out"))
    assert result == {"code": 0, "heavy": []}
