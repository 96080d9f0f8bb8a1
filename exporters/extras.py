"""Say in one line which extra to install when the workstation-side packages are missing.

The device install (``pip install edgeaudit``) has no torch; ``edgeaudit export`` there must not end in a
traceback on ``import torch`` but name the extra that provides it.
"""

from __future__ import annotations

import importlib

from edgeaudit.errors import MissingExtraError

#: Modules ``edgeaudit export`` (torch backend) imports; all come with ``edgeaudit[export]``.
EXPORT_MODULES = ("torch", "transformers")


def require_export_extra(modules: tuple[str, ...] = EXPORT_MODULES) -> None:
    """Import each module up front; raise ``MissingExtraError`` naming the extra if one is missing."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            missing = exc.name or name
            raise MissingExtraError(
                f"export needs the [export] extra: pip install 'edgeaudit[export]' (cannot import {missing})"
            ) from None
