"""The report tests' tiny audit, shared (made once per session)."""

from tests.edgeaudit.report.conftest import audit_document  # noqa: F401
