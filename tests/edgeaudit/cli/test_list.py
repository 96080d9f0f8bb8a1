"""``edgeaudit list``: every name the options accept, read from the registries themselves."""

from __future__ import annotations

import json

import pytest
from edgeaudit.probes.property.controls import CONTROLS

from edgeaudit.catalogue import KINDS, USED_BY
from edgeaudit.cli import main
from edgeaudit.compress import presets
from edgeaudit.gates import METRICS as GATE_METRICS
from edgeaudit.suggest import closest, did_you_mean


def _json(capsys, *args: str):
    assert main(["list", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_kind_lists_its_registry(capsys):
    everything = _json(capsys)
    assert set(everything) == set(KINDS) == set(USED_BY)
    assert [row["name"] for row in everything["presets"]] == list(presets.PRESETS)
    assert [row["name"] for row in everything["gates"]] == list(GATE_METRICS)
    assert [row["name"] for row in everything["controls"]] == list(CONTROLS)
    assert {"attention", "property", "decoder"} <= {row["name"] for row in everything["probe-groups"]}
    assert all(row["description"] for rows in everything.values() for row in rows)
    shuffled = next(row for row in everything["controls"] if row["name"] == "shuffled_pairing")
    assert shuffled["permutation"] is True
    twin = next(row for row in everything["controls"] if row["name"] == "random_init_twin")
    assert twin["requires"] == ["twin"]


def test_a_newly_registered_preset_shows_up_without_touching_the_command(capsys, monkeypatch):
    monkeypatch.setitem(presets.PRESETS, "int3-test", "a preset registered by this test")
    assert main(["list", "presets"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("presets — compress --preset:")
    assert "int3-test" in out and "a preset registered by this test" in out
    assert "[needs --calibration]" in out  # int8-static's qualifier


def test_an_unknown_kind_is_one_line_and_exit_2(capsys):
    assert main(["list", "prests"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'prests' is not one of" in err[0]


@pytest.mark.parametrize(("name", "known", "expected"), [
    ("int8-dynamc", ["int8-dynamic", "fp16"], "did you mean 'int8-dynamic'? "),
    ("zzz", ["int8-dynamic", "fp16"], ""),
])
def test_did_you_mean_suggests_only_close_names(name, known, expected):
    assert did_you_mean(name, known) == expected
    assert closest("flip", ["flips", "breaks"]) == ["flips"]
