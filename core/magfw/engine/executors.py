"""Executors: where units of work run, behind the ``concurrent.futures`` interface.

``local`` is a process pool on this machine (``--workers N``); ``dask`` submits to a Dask
distributed scheduler (``--scheduler ADDRESS``) or, without an address, to a ``LocalCluster``
of N single-threaded worker processes. Both run the same function on the same picklable job,
so products are identical whichever is used. Each worker process loads and clears SPICE kernels
per unit (see :mod:`magfw.geometry.kernels`); workers run one unit at a time.

A worker that dies fails only the units it was running: they are retried once, then reported.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Literal

from magfw.errors import UsageError

ExecutorKind = Literal["local", "dask"]


class LocalPool:
    """A process pool that can be rebuilt after a worker dies (``BrokenProcessPool``)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # spawn, not fork: the parent may hold threads (progress display) and SPICE state
        self._ctx = multiprocessing.get_context("spawn")
        self.executor: Executor = self._new()

    def _new(self) -> Executor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx)

    def rebuild(self) -> Executor:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new()
        return self.executor

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def dask_executor(workers: int, scheduler: str | None) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on a Dask cluster (``Client.get_executor()``)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(None, "--executor dask needs dask.distributed: pip install 'magfw[dask]'") from None
    # a unit whose worker dies is retried once, then reported (KilledWorker)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        if scheduler:
            client = Client(scheduler, set_as_default=False)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            client = Client(cluster, set_as_default=False)
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def validate(kind: str, scheduler: str | None) -> ExecutorKind:
    if kind not in ("local", "dask"):
        raise UsageError(None, f"--executor {kind!r}: choose local or dask")
    if scheduler and kind != "dask":
        raise UsageError(None, "--scheduler is only for --executor dask")
    return kind  # type: ignore[return-value]
