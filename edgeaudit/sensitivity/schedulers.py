"""Where a sweep's variant tasks run: in this process one after another, or on Dask.

Every variant is independent (compress → run → compare), so a sweep is a bag of tasks. Rather than a home-made
pool, ``dask.distributed`` runs them: a ``LocalCluster`` of worker processes on this machine (one per core, one
thread each, so a task's BLAS and onnxruntime do not fight the other workers for cores) or an existing cluster
given by address. Tasks carry paths and options, not arrays, so workers of a remote cluster must see the same
file system (e.g. the --out folder and the bundle on a shared mount) and have the device install
(``pip install edgeaudit``). Results do not depend on the scheduler: a task's numbers do not depend on how many
threads or processes computed them (tests assert it), and tasks are independent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from edgeaudit.audit.options import available_cores
from edgeaudit.errors import EdgeAuditError, MissingExtraError
from edgeaudit.sensitivity.options import LOCAL, SEQUENTIAL
from edgeaudit.sensitivity.task import VariantTask, run_variant, with_runtime

OnResult = Callable[[dict[str, Any]], None]
INSTALL_HINT = "install the extra: pip install 'edgeaudit[distributed]' (or run with --scheduler none)"


@dataclass
class Scheduler:
    """Runs tasks and reports each result as it finishes; ``describe()`` goes into the sweep's provenance."""

    kind: str
    workers: int
    address: str | None = None
    client: Any = None
    notes: list[str] = field(default_factory=list)

    def run(self, tasks: list[VariantTask], on_result: OnResult) -> None:
        """Run ``tasks``; a lone task on a LocalCluster (a fallback verification: the search waits for each) runs
        in this process with every core, since the workers would leave all but one core idle."""
        if self.client is None or (self.kind == LOCAL and len(tasks) == 1):
            for task in tasks:
                audit = task.compare.audit  # the sweep's own --jobs/--threads
                on_result(run_variant(with_runtime(task, jobs=audit.jobs, threads=audit.threads)))
            return
        from distributed import as_completed

        futures = [self.client.submit(run_variant, with_runtime(task, jobs=1, threads=1), key=f"variant-{task.name}",
                                      pure=False) for task in tasks]
        for future in as_completed(futures):
            on_result(future.result())

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": self.address, "workers": self.workers,
                "threads_per_task": 1 if self.client is not None else None, "notes": self.notes}


def _require_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("--scheduler needs dask.distributed, which is not installed",
                                hint=INSTALL_HINT) from None
    return distributed


def default_scheduler() -> str:
    """``local`` when Dask is installed (every core busy with variants), otherwise in-process."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return SEQUENTIAL
    return LOCAL


def check_scheduler(spec: str, memory: str) -> None:
    """Fail before any slow work: Dask missing, or a memory limit Dask would reject at cluster start."""
    if spec == SEQUENTIAL:
        return
    _require_distributed()
    if spec == LOCAL:
        _check_memory(memory)


def _check_memory(memory: str) -> None:
    from dask.utils import parse_bytes

    if memory in ("auto", "0"):
        return
    try:
        parse_bytes(memory)
    except (ValueError, TypeError):
        raise EdgeAuditError(f"option --worker-memory: {memory!r} is not a size",
                             hint="e.g. 2GiB, 1500MB or auto (the machine's memory split between the workers)") from None


@contextlib.contextmanager
def open_scheduler(spec: str, *, workers: int | None = None, memory: str = "auto") -> Iterator[Scheduler]:
    """``none``, ``local`` or a scheduler address; the cluster is closed on exit."""
    if spec == SEQUENTIAL:
        yield Scheduler(SEQUENTIAL, 1)
        return
    distributed = _require_distributed()
    if spec == LOCAL:
        count = workers or available_cores()
        _check_memory(memory)
        with contextlib.ExitStack() as stack:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                memory_limit=memory, silence_logs=40))
            client = stack.enter_context(distributed.Client(cluster))
            yield Scheduler(LOCAL, count, cluster.scheduler_address, client)
        return
    try:
        client = distributed.Client(spec, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise EdgeAuditError(f"option --scheduler: cannot reach the Dask scheduler at {spec} ({error})",
                             hint="start one with 'dask scheduler' and workers with 'dask worker ADDRESS'") from None
    try:
        count = len(client.scheduler_info().get("workers", {}))
        scheduler = Scheduler("address", count, spec, client)
        if count == 0:
            scheduler.notes.append("the cluster had no workers when the sweep started; tasks wait for workers")
        yield scheduler
    finally:
        client.close()

