"""Options that set how fast a command runs, never what it finds (shared by audit, compare and demo)."""

from __future__ import annotations

from edgeaudit.audit.options import AuditOptions
from edgeaudit.cli.field_options import field_option

threads_option = field_option(AuditOptions, "threads")
jobs_option = field_option(AuditOptions, "jobs")
