"""``edgeaudit extract`` with a chosen shard size, for interruption tests (run as a script in a subprocess).

The CLI has no option for the shard size (it picks ~64 MB shards, i.e. 1024 sentences of the tiny model),
so this driver calls the library function the CLI calls, ``extract_to_directory``, with
``ExtractOptions(shard_sentences=...)``, inside the CLI's error handling. ``--pause SECONDS`` sleeps after
every array file the store writes, so that a test can kill the process in the middle of a shard.

    python extract_driver.py BUNDLE DATA OUT --shard-sentences 4 [--pause 0.2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--shard-sentences", type=int, required=True)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()

    from edgeaudit.bundle import load_bundle
    from edgeaudit.data import load_treebank
    from edgeaudit.errors import EdgeAuditError
    from edgeaudit.runtime import ExtractOptions, extract_to_directory
    from edgeaudit.runtime import store as store_module

    if args.pause > 0:
        write_npy = store_module._write_npy

        def slow_write_npy(path, array):
            size = write_npy(path, array)
            time.sleep(args.pause)
            return size

        store_module._write_npy = slow_write_npy
    try:
        bundle = load_bundle(args.bundle)
        treebank = load_treebank(args.data)
        options = ExtractOptions(threads=1, shard_sentences=args.shard_sentences, progress=False)
        result = extract_to_directory(bundle, treebank.sentences, args.out, options)
    except EdgeAuditError as error:  # as edgeaudit.cli.main does
        print(f"edgeaudit: error: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    print(json.dumps(result.report["summary"]["store"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
