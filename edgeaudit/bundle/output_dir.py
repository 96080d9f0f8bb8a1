"""Stage a bundle in a sibling temp directory and move it into place only when it is complete.

Shared by everything that writes a bundle (``exporters`` on the workstation, ``edgeaudit compress`` on
either side), so a half-written bundle never appears under the requested name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edgeaudit.bundle.manifest import MANIFEST_NAME
from edgeaudit.errors import BundleError, EdgeAuditError


def check_output_dir(out_dir: Path, force: bool, *, error: type[EdgeAuditError] = BundleError) -> None:
    """Refuse to clobber anything that is not an edgeaudit bundle unless ``force``; raise ``error``."""
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise error(f"{out_dir}: exists and is a file", hint="choose another output directory")
    if force or not any(out_dir.iterdir()):
        return
    if (out_dir / MANIFEST_NAME).is_file():
        raise error(
            f"{out_dir}: already holds a bundle", hint="pass --overwrite to replace it, or choose another directory"
        )
    raise error(
        f"{out_dir}: exists, is not empty and is not an edgeaudit bundle",
        hint="choose another output directory, or pass --overwrite to replace its contents",
    )


def current_umask() -> int:
    """The process umask (reading it means setting it; set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


OWNER_FILE = ".edgeaudit-staging-pid"  # inside a staging directory: the process writing it


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Delete staging directories of ``out_dir`` left by killed runs (SIGKILL, power loss): their owner is gone.

    A run that is still writing (its process alive) is left alone; so is any directory without an owner file.
    """
    removed = []
    for candidate in out_dir.parent.glob(f".{out_dir.name}.*"):
        owner = candidate / OWNER_FILE
        try:
            pid = int(owner.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        if not _process_alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


@contextlib.contextmanager
def staged_bundle(out_dir: Path, force: bool, *, error: type[EdgeAuditError] = BundleError) -> Iterator[Path]:
    """Yield a temp directory to write into; on success it replaces ``out_dir`` atomically-enough."""
    out_dir = Path(out_dir)
    check_output_dir(out_dir, force, error=error)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent is a file, or no permission: bad input, not a crash
        blocker = next((str(p) for p in out_dir.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file" if blocker else exc.strerror
        raise error(f"{out_dir}: cannot create its parent directory ({reason})",
                    hint="choose another output directory") from None
    remove_stale_staging(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes it 0700; a bundle is shared like any directory
    try:
        (staging / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
        yield staging
        (staging / OWNER_FILE).unlink(missing_ok=True)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
