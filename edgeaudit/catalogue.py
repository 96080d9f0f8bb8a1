"""Everything a name can refer to, in one place: what ``edgeaudit list`` prints and what the options accept.

Each kind maps to a function returning rows (``name``, ``description`` and what else a user needs to choose:
requirements, licence, units). The rows are read from the registries themselves, so a new probe, control,
preset, dataset or gate metric shows up here without an edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]


def probe_groups() -> list[Row]:
    from edgeaudit.claim_kinds import GROUPS

    return [{"name": name, "description": group.description, "claim_kinds": [kind.name for kind in group.kinds]}
            for name, group in GROUPS.items()]


def probes() -> list[Row]:
    from edgeaudit.probes import PROBES

    return [{"name": name, "description": entry.description, "role": entry.kind} for name, entry in PROBES.items()]


def controls() -> list[Row]:
    from edgeaudit.probes.property.controls import CONTROLS

    return [{"name": name, "description": entry.description, "requires": sorted(entry.requires),
             "permutation": entry.permutation} for name, entry in CONTROLS.items()]


def mappers() -> list[Row]:
    from edgeaudit.probes.property.mappers import MAPPERS

    return [{"name": name, "description": entry.description}
            for name, entry in MAPPERS.items()]


def metrics() -> list[Row]:
    from edgeaudit.probes.property.metrics import METRICS

    return [{"name": name, "description": spec.description, "unit": spec.unit, "binary_only": spec.binary_only}
            for name, spec in METRICS.items()]


def presets() -> list[Row]:
    from edgeaudit.compress.presets import NEEDS_CALIBRATION, PRESETS

    return [{"name": name, "description": text, "needs_calibration": name in NEEDS_CALIBRATION}
            for name, text in PRESETS.items()]


def datasets() -> list[Row]:
    from edgeaudit.data.registry import BUILTINS

    return [{"name": entry.name, "description": entry.description, "kind": entry.kind, "licence": entry.licence}
            for entry in BUILTINS.values()]


def gates() -> list[Row]:
    from edgeaudit.gates import METRICS

    return [{"name": name, "description": text} for name, text in METRICS.items()]


#: where each kind's names are accepted (shown above its list)
USED_BY: dict[str, str] = {
    "probe-groups": "audit/compare --probes",
    "probes": "the Python API (edgeaudit.probes.get_probe)",
    "controls": "the property probe's control battery (all that apply run by default)",
    "mappers": "audit --mapper",
    "metrics": "the property probe's scores (each one a claim)",
    "presets": "compress --preset",
    "datasets": "--data, --nonce, --norms as builtin:NAME",
    "gates": "compare --fail-on / --gates",
}

KINDS: dict[str, Callable[[], list[Row]]] = {
    "probe-groups": probe_groups,
    "probes": probes,
    "controls": controls,
    "mappers": mappers,
    "metrics": metrics,
    "presets": presets,
    "datasets": datasets,
    "gates": gates,
}
