"""Executors: where the pipeline's tasks run (this process, or Dask workers).

The pipeline (:mod:`simulator.pipeline.flow`) hands an executor a task function, the data
every task shares, and the tasks' own arguments; the executor runs them and gives each
result to ``collect`` on the driver. Two executors, one contract:

* :class:`SerialExecutor`: in this process, one task after the other (the in-memory run,
  and a tiled run without Dask);
* :class:`DaskExecutor`: tasks on a ``distributed.Client`` (a ``LocalCluster`` from
  :func:`connect`, or any scheduler): the shared data is scattered once to every worker,
  at most ``max_in_flight`` tasks are pending or held, a task that fails is retried
  ``retries`` times (a worker that died is replaced), and one that still fails stops the
  run with one line naming it.

``ordered=True`` hands results to ``collect`` strictly in task order (results arriving
early are held): the terrain site pass reduces discs in site index order, so the fields
are bit-identical whatever the number of workers. ``ordered=False`` hands them over as
they arrive (the tile pass: its sums are exact integers, so any order gives the same).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Callable

from ..errors import ScenarioError


class SerialExecutor:
    """Run every task in this process, in order."""

    workers = 1
    client = None

    def map(self, fn: Callable, shared, n: int, args_of: Callable[[int], tuple],
            collect: Callable[[int, object], None], *, ordered: bool = True,
            describe: Callable[[int], str] | None = None, name: str = "task") -> None:
        """``collect(i, fn(shared, *args_of(i)))`` for i = 0 .. n - 1."""
        for i in range(n):
            collect(i, fn(shared, *args_of(i)))


class DaskExecutor:
    """Run tasks on a Dask ``client`` (see the module text).

    Parameters
    ----------
    client : distributed.Client
    retries : int
        Retries of a failed task before the run fails.
    max_in_flight : int, optional
        Tasks submitted (or held for ordering) but not yet collected; default
        ``2 x workers + 2``. Bounds the driver's memory.
    """

    def __init__(self, client, *, retries: int = 2, max_in_flight: int | None = None):
        self.client = client
        self.retries = int(retries)
        self.workers = n_workers(client)
        self.max_in_flight = int(max_in_flight or 2 * self.workers + 2)

    def map(self, fn: Callable, shared, n: int, args_of: Callable[[int], tuple],
            collect: Callable[[int, object], None], *, ordered: bool = True,
            describe: Callable[[int], str] | None = None, name: str = "task") -> None:
        from distributed import as_completed

        client = self.client
        token = uuid.uuid4().hex[:8]
        [shared_future] = client.scatter([shared], broadcast=True, hash=False)
        where: dict = {}
        held: dict = {}
        state = {"submitted": 0, "collected": 0}

        def submit_more(ac=None) -> list:
            new = []
            while (state["submitted"] < n
                   and state["submitted"] - state["collected"] < self.max_in_flight):
                i = state["submitted"]
                fut = client.submit(fn, shared_future, *args_of(i),
                                    key=f"ruralsim-{name}-{token}-{i}", retries=self.retries,
                                    pure=False)
                where[fut.key] = i
                state["submitted"] += 1
                if ac is None:
                    new.append(fut)
                else:
                    ac.add(fut)
            return new

        ac = as_completed(submit_more())
        try:
            for fut in ac:
                i = where.get(fut.key, -1)
                try:
                    out = fut.result()
                except Exception as exc:
                    what = describe(i) if describe is not None else f"{name} {i + 1} of {n}"
                    raise ScenarioError(
                        f"{what} failed after {self.retries} retries: "
                        f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                        "; no results were written") from None
                fut.release()
                if ordered:
                    held[i] = out
                    while state["collected"] in held:
                        j = state["collected"]
                        collect(j, held.pop(j))
                        state["collected"] += 1
                else:
                    collect(i, out)
                    state["collected"] += 1
                submit_more(ac)
        except BaseException:
            for f in list(ac.futures):
                f.cancel()
            raise
        finally:
            shared_future.release()
        if state["collected"] != n:  # never a silent partial result
            raise ScenarioError(f"only {state['collected']} of {n} {name}s came back; no "
                                "results were written")


def executor_for(client=None, *, retries: int = 2, max_in_flight: int | None = None):
    """:class:`DaskExecutor` on ``client``, or :class:`SerialExecutor` when it is None."""
    if client is None:
        return SerialExecutor()
    return DaskExecutor(client, retries=retries, max_in_flight=max_in_flight)


def n_workers(client) -> int:
    """Workers of a Dask client (1 without one)."""
    if client is None:
        return 1
    try:
        return max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    except TypeError:  # older distributed: no n_workers argument
        return max(1, len(client.scheduler_info()["workers"]))


@contextlib.contextmanager
def connect(*, workers: int | None = None, scheduler: str | None = None,
            timeout_s: float = 10.0, processes: bool = True):
    """A Dask client: a LocalCluster of ``workers`` processes (one thread each), or the
    scheduler at ``scheduler`` (``tcp://host:8786``). Closed on exit.

    The local workers are started without Dask's default ``MALLOC_TRIM_THRESHOLD_``
    (see the comment in the code: it makes the terrain engine several times slower);
    workers of an existing cluster should be started likewise (Dask configuration
    ``distributed.nanny.pre-spawn-environ``).

    Raises ScenarioError "cannot reach scheduler at ..." when the address does not answer
    within ``timeout_s``.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is an optional dependency
        raise ScenarioError("--workers/--scheduler need dask.distributed: "
                            "pip install 'ruralsim[dask]'") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(f"cannot reach scheduler at {scheduler} within "
                                f"{timeout_s:g} s ({type(exc).__name__}); check the address "
                                "and that 'dask scheduler' is running") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = int(workers or 1)
    if n < 1:
        raise ScenarioError(f"--workers must be >= 1 (got {n})", value=n)
    import dask

    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes
    # glibc's mmap threshold: every large numpy temporary is then a fresh mmap, faulted in
    # page by page. The terrain engine allocates many per site: measured 4.7 x slower per
    # site on 1 worker (93 s against 20 s for 82 ITM sites); without it, 1.15 x (transfer)
    spawn_env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ",
                                                  {}).items()
                 if k != "MALLOC_TRIM_THRESHOLD_"}
    # dashboard_address=":0": the scheduler's HTTP server (metrics) on a free port; with
    # None it still takes 8787 and warns when another cluster on the machine holds it
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn_env}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                               dashboard_address=":0")
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
