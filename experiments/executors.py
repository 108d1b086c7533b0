"""Run a sweep's runs on an existing engine: a local process pool, Dask distributed, or submitit (Slurm).

Every engine calls the same worker function, :func:`run_spec`, which runs one simulation and writes its record
itself (so on a cluster the records land on the shared file system without passing through the driver) and
returns only ``(hash, status)``. The driver shows one progress bar. A run's result depends only on its
configuration (its seed included), never on the engine or the number of workers.
"""

from __future__ import annotations

import math
import os
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sim import Params

from . import store


@dataclass
class RunSpec:
    """One run of a sweep: its validated parameters and the columns that identify it in the table."""

    run_hash: str
    params: Params
    labels: dict[str, Any]  # sweep, point, scenario, replicate, seed and the varied values
    config: dict[str, Any] = field(default_factory=dict)  # the resolved model config, as plain containers


def code_version() -> str:
    """The package version plus the git commit of the working tree, when there is one."""
    from importlib.metadata import version

    text = version("placesim")
    try:
        import subprocess

        root = Path(__file__).resolve().parents[1]
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=False).stdout.strip()
        if commit:
            text += f"+{commit}" + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return text


def config_yaml(config: dict) -> str:
    """The resolved YAML of a run, as :func:`experiments.config.resolved_yaml` writes it (dumped in the worker)."""
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    return yaml.dump(config, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=get_omega_conf_dumper())


def run_spec(spec: RunSpec, folder: str, version: str) -> tuple[str, str]:
    """Worker: run one simulation, write its record atomically; a failure writes an error record instead."""
    from .runner import simulate

    start = time.perf_counter()
    record: dict[str, Any] = {"run_hash": spec.run_hash, **spec.labels}
    try:
        summary = simulate(spec.params, resident_agents=False).summary
        record.update({k: _cell(v) for k, v in summary.items()})
        record.update(status="ok", error=None)
    except Exception:  # noqa: BLE001 - any failure of one run is recorded and the sweep carries on
        record.update(status="error", error=traceback.format_exc())
    record.update(wall_seconds=time.perf_counter() - start, code_version=version, config=config_yaml(spec.config))
    store.write_record(Path(folder), spec.run_hash, record)
    return spec.run_hash, record["status"]


def _cell(value: Any) -> Any:
    """A summary value as a table cell: numbers as float (so columns never flip type), None as NaN."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def run_chunk(specs: list[RunSpec], folder: str, version: str) -> list[tuple[str, str]]:
    """One submitit job: many runs in sequence (thousands of short runs must not be thousands of jobs)."""
    from .config import quiet_libraries

    quiet_libraries()
    return [run_spec(spec, folder, version) for spec in specs]


@dataclass
class ExecutorSettings:
    kind: str = "local"  # local | dask | submitit
    workers: int = 0  # local and dask LocalCluster: processes; 0 = one per core
    dask_address: str | None = None  # an existing scheduler, e.g. tcp://10.0.0.5:8786 (started by dask-jobqueue)
    submitit: dict[str, Any] = field(default_factory=dict)


Done = Callable[[str, str], None]


def execute(specs: list[RunSpec], folder: Path, settings: ExecutorSettings, on_done: Done) -> None:
    """Run ``specs`` on the chosen engine, calling ``on_done(hash, status)`` as each run finishes."""
    if not specs:
        return
    version = code_version()
    runner = {"local": _local, "dask": _dask, "submitit": _submitit}[settings.kind]
    runner(specs, str(folder), version, settings, on_done)


def worker_count(settings: ExecutorSettings, n_runs: int) -> int:
    return max(1, min(settings.workers or os.cpu_count() or 1, n_runs))


def _local(specs, folder, version, settings, on_done) -> None:
    workers = worker_count(settings, len(specs))
    if workers == 1:  # in-process: no start-up cost, and the honest baseline for parallel efficiency
        for spec in specs:
            on_done(*run_spec(spec, folder, version))
        return
    # spawned workers inherit no state from the driver
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_spec, spec, folder, version) for spec in specs]
        for future in as_completed(futures):
            on_done(*future.result())


def _dask(specs, folder, version, settings, on_done) -> None:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    if settings.dask_address:
        client = Client(settings.dask_address)
    else:
        # one single-threaded process per worker: the model is pure Python and holds the GIL
        cluster = LocalCluster(n_workers=worker_count(settings, len(specs)), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(run_spec, specs, folder=folder, version=version, pure=False)
        for future in dask_completed(futures):
            on_done(*future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), max(1, size)):
        yield items[start:start + size]


def _submitit(specs, folder, version, settings, on_done) -> None:
    import submitit

    options = dict(settings.submitit)
    log_folder = options.pop("folder")
    cluster = options.pop("cluster", None)
    chunk_size = int(options.pop("chunk_size", 50))
    executor = submitit.AutoExecutor(folder=log_folder, cluster=cluster)
    parameters = {k: v for k, v in options.items() if v is not None}
    if parameters:
        executor.update_parameters(**parameters)
    groups = list(chunks(specs, chunk_size))
    with executor.batch():  # one Slurm job array for all chunks
        jobs = [executor.submit(run_chunk, group, folder, version) for group in groups]
    with warnings.catch_warnings():
        if cluster == "debug":
            # submitit's debug jobs detach their log FileHandlers without closing them (submitit 1.5):
            # a ResourceWarning each, which is submitit's to fix, not a problem of the runs
            warnings.simplefilter("ignore", ResourceWarning)
        for job in submitit.helpers.as_completed(jobs):
            for run_hash, status in job.result():
                on_done(run_hash, status)
