"""A finished audit given to compare is schema-checked first: damaged or newer files are one line, exit 2."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.edgeaudit.compare.test_cli import assert_one_line_error, run_cli


def _edited(reference_audit, tmp_path, edit) -> str:
    target = tmp_path / "audit"
    shutil.copytree(reference_audit, target)
    text = (target / "audit.json").read_text()
    (target / "audit.json").write_text(edit(text))
    return str(target)


def _document_edit(change):
    def edit(text: str) -> str:
        document = json.loads(text)
        change(document)
        return json.dumps(document)
    return edit


@pytest.mark.parametrize(("edit", "fragments"), [
    (lambda text: text[: len(text) // 2], ["audit.json: line", "not valid JSON"]),
    (_document_edit(lambda d: d.update(schema_version=2)), ["audit.json: $.schema_version: 2 is newer", "upgrade"]),
    (_document_edit(lambda d: d["claims"][0].update(verdict="great")), ["audit.json: $.claims[0].verdict"]),
    (_document_edit(lambda d: d["data"].pop("sentences")), ["audit.json: $.data", "'sentences' is missing"]),
    (_document_edit(lambda d: d["summary"].update(verdicts=None)), ["audit.json: $.summary.verdicts"]),
], ids=["truncated", "newer-schema", "bad-verdict", "missing-field", "null-section"])
def test_a_damaged_audit_is_one_line_exit_2(reference_audit, tmp_path, edit, fragments):
    damaged = _edited(reference_audit, tmp_path, edit)
    result = run_cli(str(reference_audit), damaged, "--out", str(tmp_path / "out"), "-q")
    assert_one_line_error(result, 2, *fragments)
    assert not (tmp_path / "out" / "compare.json").exists()
