"""Sweep storage: one immutable Parquet record per run, written atomically, compacted into one table.

Layout under the results root (``results/``, or ``$PLACESIM_RESULTS`` if set)::

    sweeps/<name>/sweep.yaml            the composed sweep description
    sweeps/<name>/runs/<hash>.parquet   one row per run, keyed by the hash of its resolved model config
    sweeps/<name>/table.parquet         every record, compacted (pandas and DuckDB read it)

A record is written to a dot-named temporary file in the same folder and renamed into place with
:func:`os.replace`, which is atomic on one file system: a record is complete or absent, never partial, and
``*.parquet`` never matches a temporary file. A record with ``status == "ok"`` is final; an ``error`` record
(holding the traceback) is retried on the next run of the sweep.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .config import RESULTS_DIR

TEMP_PREFIX = ".tmp-"
# Columns that describe how a run went rather than what it computed: excluded when two tables are compared.
TIMING_COLUMNS = ("wall_seconds",)


def results_root() -> Path:
    """The results folder: ``$PLACESIM_RESULTS`` if set (tests point it at a temporary folder), else results/."""
    env = os.environ.get("PLACESIM_RESULTS")
    return Path(env) if env else RESULTS_DIR


def sweep_dir(name: str) -> Path:
    return results_root() / "sweeps" / name


def runs_dir(name: str) -> Path:
    return sweep_dir(name) / "runs"


def record_path(folder: Path, run_hash: str) -> Path:
    return Path(folder) / f"{run_hash}.parquet"


def write_record(folder: Path, run_hash: str, record: dict) -> Path:
    """Write one run's record as a one-row Parquet file, atomically (temporary file, fsync, os.replace)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([record])
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{run_hash}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; records are for every reader
        os.replace(tmp, record_path(folder, run_hash))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return record_path(folder, run_hash)


def finished(folder: Path) -> set[str]:
    """Hashes of runs with a successful record (an error record does not count: it is retried)."""
    done = set()
    for path in Path(folder).glob("*.parquet"):
        try:
            status = pq.read_table(path, columns=["status"]).column("status")[0].as_py()
        except Exception:  # noqa: BLE001, S112 - cannot happen (atomic writes); if it does, rerun the run
            continue
        if status == "ok":
            done.add(path.stem)
    return done


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temporary files left by a killed sweep (they are never read, but should not pile up)."""
    count = 0
    for path in Path(folder).glob(f"{TEMP_PREFIX}*"):
        path.unlink(missing_ok=True)
        count += 1
    return count


def read_records(folder: Path) -> pd.DataFrame:
    paths = sorted(Path(folder).glob("*.parquet"))
    if not paths:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def compact(name: str, order: list[str] | None = None) -> Path:
    """Gather every record of sweep ``name`` into sweeps/<name>/table.parquet (atomically); return its path."""
    frame = read_records(runs_dir(name))
    if order and not frame.empty:
        frame = frame.sort_values([c for c in order if c in frame.columns], kind="stable", ignore_index=True)
    target = sweep_dir(name) / "table.parquet"
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
