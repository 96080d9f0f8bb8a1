"""Where the time goes: py-spy over an edgeaudit command, folded into a short table of functions.

    python -m benchmarks.profile extract [--sentences 500]     # edgeaudit extract on the first N EWT test sentences
    python -m benchmarks.profile audit [--sentences 200]       # the full default audit
    python -m benchmarks.profile -- python -m edgeaudit ...    # any command

Needs ``py-spy`` (``pip install py-spy``). Writes the raw folded stacks next to the cache
(``benchmarks/.cache/profiles/``) and prints inclusive shares for the busiest functions.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import common


def fold(raw: Path, top: int = 40) -> str:
    """Inclusive and self shares per function from py-spy's ``--format raw`` output."""
    total, inclusive, leaf = 0, collections.Counter(), collections.Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_name(frame) for frame in stack.split(";")]
        for name in set(frames):
            inclusive[name] += n
        leaf[frames[-1]] += n
    lines = [f"{total} samples", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["self:"] + [f"  {100 * n / total:5.1f}%  {name}" for name, n in leaf.most_common(15)]
    return "\n".join(lines)


def _name(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``."""
    func, _, where = frame.partition(" (")
    return f"{func} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else func


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["extract", "audit"], default=None)
    parser.add_argument("--sentences", type=int, default=None)
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.command = command
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    settings = common.Settings()
    if args.what:
        n = args.sentences or (common.FULL_SUBSET if args.what == "extract" else common.B4_SMALL)
        bundle = common.ensure_bundles(settings, int8=False)["fp32"]
        files, _ = common.conllu_files(settings, [n])
        out = Path(tempfile.mkdtemp(prefix=f"profile-{args.what}.", dir=settings.cache_dir))
        command = [sys.executable, "-m", "edgeaudit", args.what, str(bundle), "--data", str(files[n]),
                   "--out", str(out / "out"), "--quiet"]
    else:
        command = args.command
        out = None
        if not command:
            parser.error("give extract, audit, or -- COMMAND")
    folder = settings.cache_dir / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{args.what or 'command'}.txt"
    try:
        code = subprocess.run([spy, "record", "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
                               "--", *command], cwd=common.ROOT).returncode
    finally:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
    if raw.is_file():
        print(fold(raw))
    return code


if __name__ == "__main__":
    sys.exit(main())
