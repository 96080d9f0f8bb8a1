"""Output-directory staging for exports: the helpers live in ``edgeaudit.bundle.output_dir`` (the device
side needs them too, and must not import ``exporters``); here they raise ``ExportError`` as before."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from edgeaudit.bundle import output_dir as _shared
from edgeaudit.errors import ExportError


def check_output_dir(out_dir: Path, force: bool) -> None:
    """Refuse to clobber anything that is not an edgeaudit bundle unless ``force``."""
    _shared.check_output_dir(out_dir, force, error=ExportError)


@contextlib.contextmanager
def staged_bundle(out_dir: Path, force: bool) -> Iterator[Path]:
    """Yield a temp directory to write into; on success it replaces ``out_dir``."""
    with _shared.staged_bundle(out_dir, force, error=ExportError) as staging:
        yield staging
