"""Typed result objects: ``AuditResult`` (audit.json) and ``CompareResult`` (compare.json).

Writers build plain JSON and readers (compare, gates, reports) read these objects; ``from_json(to_json(x))``
gives ``x`` back and a test holds the shipped JSON Schemas to the dataclasses' fields.
"""

from edgeaudit.results.audit_result import AuditResult, BundleInfo, DatasetInfo, Runs, RunSection
from edgeaudit.results.compare_result import (
    ComparedClaim,
    CompareResult,
    GateRecord,
    NumericDrift,
    SideScore,
)
from edgeaudit.results.files import read_typed, typed

__all__ = ["AuditResult", "BundleInfo", "ComparedClaim", "CompareResult", "DatasetInfo", "GateRecord",
           "NumericDrift", "RunSection", "Runs", "SideScore", "read_typed", "typed"]
