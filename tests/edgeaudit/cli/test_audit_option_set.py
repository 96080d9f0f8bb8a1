"""audit and compare take the audit's options from one list: compare can set every one, thresholds included."""

from __future__ import annotations

import json

from edgeaudit.cli import main
from edgeaudit.cli.audit_cmd import audit_command
from edgeaudit.cli.audit_option_set import NAMES
from edgeaudit.cli.compare_cmd import compare_command


def _params(command) -> set[str]:
    return {param.name for param in command.params}


def test_both_commands_take_every_audit_option():
    assert set(NAMES) <= _params(audit_command)
    assert set(NAMES) <= _params(compare_command)
    assert {"mapper", "folds", "nonce", "property_layers", "min_effect", "jobs"} <= set(NAMES)


def test_every_audit_option_of_the_api_is_on_the_command_line():
    """API and CLI cannot drift: a new AuditOptions field or verdict threshold without its option fails here."""
    import dataclasses

    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.cli.audit_option_set import THRESHOLD_PARAMETERS
    from edgeaudit.verdict import VerdictThresholds

    by_other_means = {"thresholds": "one option per threshold", "progress": "-q/--quiet"}
    fields = {field.name for field in dataclasses.fields(AuditOptions)}
    assert fields - set(by_other_means) == set(NAMES) - set(THRESHOLD_PARAMETERS)
    assert {field.name for field in dataclasses.fields(VerdictThresholds)} == set(THRESHOLD_PARAMETERS)


def test_the_command_line_defaults_are_the_api_defaults():
    """Generated from the dataclass fields: an audit run with no options is ``AuditOptions()``."""
    import click
    from click.testing import CliRunner

    from edgeaudit.audit.options import AuditOptions
    from edgeaudit.cli.audit_option_set import audit_option_set, audit_options_from
    from edgeaudit.verdict import VerdictThresholds

    @click.command()
    @audit_option_set
    def probe(**params):
        click.echo(repr(audit_options_from(params, progress=False)))

    assert CliRunner().invoke(probe, []).output.strip() == repr(AuditOptions(progress=False))
    given = CliRunner().invoke(probe, ["--probes", "tree,attention", "--property-layers", "0-2,5", "--min-effect", "0.2",
                                       "--norm-columns", "A, B", "-j", "2"])
    expected = AuditOptions(probes=("tree", "attention"), property_layers=(0, 1, 2, 5), norm_columns=("A", "B"),
                            jobs=2, progress=False, thresholds=VerdictThresholds(min_effect=0.2))
    assert given.output.strip() == repr(expected), given.output
    refused = CliRunner().invoke(probe, ["--structural-rank", "0"])
    assert refused.exit_code == 2 and "x>=1" in refused.output


def test_the_mapper_choices_are_the_registered_mappers():
    from edgeaudit.probes.property import MAPPERS

    from edgeaudit.audit.options import MAPPER_NAMES

    assert MAPPER_NAMES == tuple(MAPPERS)


def test_compare_of_bundles_audits_with_the_thresholds_and_mapper_given(tiny_bundle, tmp_path, capsys):
    bundle = str(tiny_bundle("bert"))
    out = tmp_path / "cmp"
    code = main(["compare", bundle, bundle, "--out", str(out), "-q", "--unrelated-ok", "--no-fidelity",
                 "--probes", "attention", "--max-sentences", "20", "--min-count", "5", "--bootstrap", "50",
                 "--min-effect", "0.5", "--max-ci-width", "0.9", "--mapper", "ridge", "--folds", "3", "-j", "1",
                 "--confidence", "0.9"])
    assert code == 0, capsys.readouterr().err
    for side in ("reference", "variant"):
        options = json.loads((out / side / "audit.json").read_text(encoding="utf-8"))["options"]
        assert options["thresholds"]["min_effect"] == 0.5 and options["thresholds"]["max_ci_width"] == 0.9
        assert options["mapper"] == "ridge" and options["folds"] == 3 and options["jobs"] == 1
        assert options["confidence"] == 0.9
    # every claim was judged against the 0.5 minimum effect: none of the tiny model's heads clears it
    document = json.loads((out / "reference" / "audit.json").read_text(encoding="utf-8"))
    assert document["claims"] and not any(c["verdict"] == "supported" for c in document["claims"])


def test_a_rerun_with_other_jobs_or_threads_is_the_same_run(tiny_bundle, tmp_path, capsys):
    args = ["audit", str(tiny_bundle("bert")), "--out", str(tmp_path / "a"), "-q", "--probes", "attention",
            "--max-sentences", "20", "--min-count", "5", "--bootstrap", "50"]
    assert main([*args, "-j", "1"]) == 0
    capsys.readouterr()
    assert main([*args, "-j", "2", "--threads", "1"]) == 0, capsys.readouterr().err  # not refused as another run


def test_every_compare_option_of_the_api_is_on_the_command_line():
    import dataclasses

    from edgeaudit.cli.compare_option_set import NAMES as COMPARE_NAMES
    from edgeaudit.compare.options import CompareOptions

    by_other_means = {"audit": "the audit options", "gates": "--fail-on/--gates", "unrelated_ok": "--unrelated-ok",
                      "progress": "-q/--quiet", "explicit_audit_options": "which audit options the user typed"}
    assert {field.name for field in dataclasses.fields(CompareOptions)} - set(by_other_means) == set(COMPARE_NAMES)
    assert {"fidelity_min_cosine", "applied"} <= set(_params(compare_command))
