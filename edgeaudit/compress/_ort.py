"""onnxruntime's own exception types (raised from C++ for bad graphs or bad feeds) and message tidying."""

from __future__ import annotations

from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidGraph, RuntimeException

#: Errors onnxruntime raises when a graph or a feed is wrong (as opposed to bugs in our code).
ORT_ERRORS: tuple[type[Exception], ...] = (Fail, InvalidArgument, InvalidGraph, RuntimeException)


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, shortened: enough for a one-line error."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"
