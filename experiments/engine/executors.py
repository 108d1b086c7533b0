"""Run planned runs on an existing engine: a local process pool, Dask distributed, or Slurm through submitit.

Every engine calls the same worker, :func:`experiments.engine.runner.run_record`, which writes each run's record
as it finishes and returns only ``(hash, status)``; the driver keeps nothing else, so a crash of the driver or a
worker loses only the runs in flight, and the same command resumes. A run's result depends only on its
configuration (its seed included), never on the engine or the number of workers.

Local workers ignore Ctrl-C (the driver stops them) and exit when the driver dies, so a killed driver never leaves
workers running.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from .config import ConfigError, EngineSettings
from .runner import run_chunk, run_record

Done = Callable[[str, str], None]


def worker_count(settings: EngineSettings, n_runs: int) -> int:
    return max(1, min(settings.workers or os.cpu_count() or 1, n_runs))


def check_engine(settings: EngineSettings) -> str:
    """Check the engine can run, before any work starts; return a line saying where runs will run."""
    if settings.executor == "submitit":
        cluster = settings.submitit.cluster
        has_slurm = shutil.which("sbatch") is not None
        if cluster == "slurm" and not has_slurm:
            raise ConfigError("engine.submitit.cluster: slurm asked for, but sbatch is not on PATH (no Slurm here)")
        if cluster is None:
            return "submitit on Slurm" if has_slurm else "submitit, locally (no Slurm found: sbatch not on PATH)"
        return f"submitit ({cluster})"
    if settings.executor == "dask":
        if settings.dask.address:
            return f"Dask at {settings.dask.address}"
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ConfigError("engine.executor: dask needs dask[distributed] installed") from None
        return "a Dask LocalCluster"
    return "local processes"


def execute(specs: list, folder: Path, settings: EngineSettings, on_done: Done, series: bool = False) -> None:
    """Run ``specs`` on the chosen engine, calling ``on_done(hash, status)`` as each run finishes."""
    if not specs:
        return
    from .runner import code_version

    version = code_version()
    runner = {"local": _local, "dask": _dask, "submitit": _submitit}[settings.executor]
    runner(specs, str(folder), version, settings, on_done, series)


# --- local --------------------------------------------------------------------------------------------------------
def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(1.0)


def _worker_init(parent: int) -> None:
    """In each local worker: leave Ctrl-C to the driver, and exit if the driver dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _local(specs, folder, version, settings, on_done, series) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    workers = worker_count(settings, len(specs))
    if workers == 1:  # in-process: no start-up cost, and the honest baseline for parallel efficiency
        for spec in specs:
            on_done(*run_record(spec, folder, version, series))
        return
    # spawned workers inherit no state from the driver
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init,
                               initargs=(os.getpid(),))
    try:
        pending = iter(specs)
        running = set()
        for spec in pending:  # keep the queue short: a few runs per worker, submitted as others finish
            running.add(pool.submit(run_record, spec, folder, version, series))
            if len(running) >= 2 * workers:
                break
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                on_done(*future.result())
                spec = next(pending, None)
                if spec is not None:
                    running.add(pool.submit(run_record, spec, folder, version, series))
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _stop_pool(pool) -> None:
    """Stop a process pool now: cancel what has not started, kill what runs (its runs are rerun next time)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)


# --- Dask ---------------------------------------------------------------------------------------------------------
def _dask(specs, folder, version, settings, on_done, series) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if settings.dask.address:
        client = Client(settings.dask.address)
    else:
        # one single-threaded process per worker: the model is pure Python and holds the GIL
        cluster = LocalCluster(n_workers=worker_count(settings, len(specs)), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        # as_completed holds each future only until it is read; once released, the scheduler forgets it, so a
        # worker that dies later does not make finished runs run again (their records are already written)
        results = as_completed(client.map(run_record, specs, folder=folder, version=version, series=series,
                                          pure=False))
        for future in results:
            outcome = future.result()
            future.release()
            on_done(*outcome)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- submitit (Slurm) ---------------------------------------------------------------------------------------------
def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), max(1, size)):
        yield items[start:start + size]


def _submitit(specs, folder, version, settings, on_done, series) -> None:
    import submitit

    from . import store

    options = settings.submitit
    log_folder = store.results_root() / "submitit" / Path(folder).name
    executor = submitit.AutoExecutor(folder=log_folder, cluster=options.cluster)
    parameters = {"timeout_min": options.timeout_min, "cpus_per_task": options.cpus_per_task,
                  "mem_gb": options.mem_gb, "slurm_partition": options.slurm_partition,
                  "slurm_array_parallelism": options.slurm_array_parallelism}
    executor.update_parameters(**{k: v for k, v in parameters.items() if v is not None})
    groups = list(chunks(specs, options.chunk_size))
    with executor.batch():  # one Slurm job array for all chunks
        jobs = [executor.submit(run_chunk, group, folder, version, series) for group in groups]
    with warnings.catch_warnings():
        if options.cluster == "debug":
            # submitit's debug jobs detach their log FileHandlers without closing them (submitit 1.5):
            # a ResourceWarning each, which is submitit's to fix, not a problem of the runs
            warnings.simplefilter("ignore", ResourceWarning)
        for job in submitit.helpers.as_completed(jobs):
            for run_hash, status in job.result():
                on_done(run_hash, status)
