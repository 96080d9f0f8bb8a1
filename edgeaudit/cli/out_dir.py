"""One run per ``--out`` folder: a lock while a command writes there, and no mixing with another run's results.

``audit`` and ``compare`` resume an interrupted run when rerun with the same inputs into the same folder. A
folder that holds a *different* run (another bundle, data or option) is refused unless ``--overwrite``, which
deletes the old results first, so stores from two runs never mix. While a command runs, ``OUT/.edgeaudit.lock``
is locked (``flock``): a second process on the same folder stops at once with the first one's pid instead of
interleaving writes with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgeaudit.audit.options import RUNTIME_ONLY
from edgeaudit.errors import EdgeAuditError

LOCK_NAME = ".edgeaudit.lock"
RUN_NAME = ".edgeaudit-run.json"
STDIN_NAME = "stdin-data.conllu"
#: options that change how fast or how loud a run is, not what it computes: a rerun may change them freely
# how fast a run goes and how it reports are not what it is (a rerun with other --jobs resumes it)
NOT_IDENTITY = frozenset({"out_dir", "quiet", "overwrite", "as_json", *RUNTIME_ONLY})


def stdin_spec(data: str) -> tuple[str, bytes | None]:
    """``--data -``: read the pipe once (the treebank is read more than once per run) and name it by content."""
    if data != "-":
        return data, None
    content = sys.stdin.buffer.read()
    if not content.strip():
        raise EdgeAuditError("option --data: standard input is empty",
                             hint="pipe a CoNLL-U treebank in, e.g. `zcat ewt.conllu.gz | edgeaudit audit B --data - "
                                  "--out a/`")
    return f"stdin:sha256:{hashlib.sha256(content).hexdigest()}", content


def keep_stdin(out: Path, data: str, content: bytes | None) -> str:
    """The data spec to use: the piped treebank saved in the claimed ``--out`` folder, or ``data`` itself."""
    if content is None:
        return data
    path = out / STDIN_NAME
    path.write_bytes(content)
    return str(path)


def parameter_labels(ctx) -> dict[str, str]:
    """How each parameter of a click command is written on the command line (its longest flag, or NAME)."""
    return {param.name: max(param.opts, key=len) if param.param_type_name == "option" else param.name.upper()
            for param in ctx.command.params}


def check_utf8(value: object, option: str) -> None:
    """Paths end up in JSON results: a name that is not valid UTF-8 must fail now, not after all the work."""
    try:
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(value).encode("utf-8", "backslashreplace").decode("ascii", "replace")
        raise EdgeAuditError(f"option {option}: {shown} is not valid UTF-8",
                             hint="rename it (or a folder on its path) to a UTF-8 name") from None


def check_inputs(bundles: tuple[str | None, ...], data: str | None) -> None:
    """Fail on a missing or broken bundle or data file before anything is printed or created."""
    from edgeaudit.bundle import load_bundle
    from edgeaudit.data._textfile import existing_file
    from edgeaudit.data.registry import is_builtin, resolve_builtin

    for bundle in bundles:
        if bundle:
            load_bundle(bundle)
    if data and data != "-" and not str(data).startswith("stdin:"):
        if is_builtin(data):
            resolve_builtin(data, "treebank")
        else:
            existing_file(data)


def run_identity(params: dict[str, Any], paths: tuple[str, ...],
                 labels: dict[str, str] | None = None) -> dict[str, Any]:
    """What makes a run this run: every option that changes results, with input folders made absolute.

    ``labels`` maps parameter names to how the user wrote them (``out_dir`` -> ``--out``) for error messages.
    """
    labels = labels or {}
    for key, value in params.items():
        if isinstance(value, str):
            check_utf8(value, labels.get(key, key))
    identity = {key: value for key, value in params.items() if key not in NOT_IDENTITY}
    for key in paths:
        value = identity.get(key)
        if value and not str(value).startswith("builtin:"):
            identity[key] = str(Path(value).resolve())
    return json.loads(json.dumps(identity, default=str))


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    with open(out / LOCK_NAME, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise EdgeAuditError(f"option --out: {out} is in use by another edgeaudit run (pid {holder})",
                                 hint="wait for it to finish, or choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    shown = ", ".join(f"{key} {old.get(key)!r} → {new.get(key)!r}" for key in keys[:3])
    return shown + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _clear_or_refuse(out: Path, command: str, identity: dict[str, Any], overwrite: bool) -> None:
    entries = [entry for entry in out.iterdir() if entry.name not in (LOCK_NAME, RUN_NAME)]
    marker = out / RUN_NAME
    previous = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else None
    if not entries or previous == {"command": command, "identity": identity}:
        return  # a new folder, or the same run again: resume
    if not overwrite:
        if previous is None:
            what = f"is not empty and holds no edgeaudit {command} run"
        elif previous.get("command") != command:
            what = f"holds an edgeaudit {previous.get('command')} run"
        else:
            what = f"holds another {command} run ({_differences(previous.get('identity') or {}, identity)})"
        raise EdgeAuditError(f"option --out: {out} {what}",
                             hint="pass --overwrite to delete it and start afresh, or choose another --out")
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@contextlib.contextmanager
def claimed_output(out_dir: str | os.PathLike[str], *, command: str, identity: dict[str, Any],
                   overwrite: bool) -> Iterator[Path]:
    """Lock ``out_dir`` for this run, refuse (or with ``overwrite`` clear) another run's results, record ours."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EdgeAuditError(f"option --out: {out} is a file", hint="choose a directory")
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        _clear_or_refuse(out, command, identity, overwrite)
        (out / RUN_NAME).write_text(json.dumps({"command": command, "identity": identity}, indent=2) + "\n",
                                    encoding="utf-8")
        try:
            yield out
        except BaseException:
            if not [entry for entry in out.iterdir() if entry.name not in (LOCK_NAME, RUN_NAME, STDIN_NAME)]:
                (out / RUN_NAME).unlink()  # nothing was produced: do not hold the folder for a run that never ran
            raise
