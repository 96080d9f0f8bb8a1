"""The one error type of ``edgeaudit compress``: a user-fixable problem, explained in one line."""

from __future__ import annotations

from edgeaudit.errors import EdgeAuditError


class CompressError(EdgeAuditError):
    """A bundle cannot be compressed with the requested preset (bad preset, calibration, or a lost tap)."""
