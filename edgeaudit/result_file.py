"""Result files are written whole or not at all: a reader (or a resumed run) never sees half a JSON document."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """Write ``document`` to ``path`` atomically (strict JSON: NaN is an error) and return exactly what was written.

    The temporary name carries the process id, so workers writing into one folder never share a temporary file.
    """
    text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return json.loads(text)  # tuples as lists, as a reader will see them
