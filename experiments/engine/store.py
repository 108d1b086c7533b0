"""Where results go, and how they are written so that a crash never leaves half a result.

Everything lands under one results root: ``results/`` in the project, or ``$PLACESIM_RESULTS`` if set (the tests
point it at a temporary folder). Folder names come only from plain names (``sim.params.check_name``) and every
path is checked to lie inside the root, so nothing a user types can place output elsewhere.

Files and folders are written under a temporary dot-name in the same folder and renamed into place
(:func:`os.replace`, atomic on one file system): a result is complete or absent. A temporary's name says which
host and process wrote it; :func:`remove_stale` deletes the temporaries of processes that no longer run (a
``kill -9`` half-way), so they never pile up.

A *study* folder (a sweep, a comparison) holds one immutable Parquet record per run in ``runs/<hash>.parquet``,
keyed by the hash of the run's resolved configuration, and the table of the current plan in ``table.parquet``.
A record with ``status == "ok"`` is final; an ``error`` record (holding the traceback) is retried next time.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from .config import ROOT, ConfigError

TEMP_MARK = ".tmp-"
STALE_AFTER_SECONDS = 24 * 3600  # a temporary from another host is removed only when this old
TIMING_COLUMNS = ("wall_seconds",)  # how a run went, not what it computed: ignored when tables are compared


def results_root() -> Path:
    """The results folder: ``$PLACESIM_RESULTS`` if set, else results/ in the project."""
    env = os.environ.get("PLACESIM_RESULTS")
    return Path(env).resolve() if env else ROOT / "results"


def check_results_root() -> Path:
    """Make sure results can be written, before any work starts; raise :class:`ConfigError` if not."""
    root = results_root()
    where = "PLACESIM_RESULTS" if os.environ.get("PLACESIM_RESULTS") else "results"
    for parent in (root, *root.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{where}: {parent} is a file, not a folder; move it away or set PLACESIM_RESULTS")
            break
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=temp_prefix("probe"), delete=True)  # noqa: SIM115
        probe.close()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot write to {root} ({exc.strerror or exc})") from None
    return root


def output_dir(*parts: str) -> Path:
    """A folder under the results root, from plain names; raise :class:`ConfigError` if it would leave the root."""
    root = results_root()
    path = root.joinpath(*parts)
    resolved = path.resolve()
    if resolved != root.resolve() and root.resolve() not in resolved.parents:
        raise ConfigError(f"name: {'/'.join(parts)!r} would place results outside {root}")
    return path


# --- temporaries and atomic writes ----------------------------------------------------------------------------
def temp_prefix(name: str) -> str:
    """The prefix of a temporary for ``name``: dot-named, with this host and process in it."""
    return f".{name}{TEMP_MARK}{socket.gethostname()}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path) -> int:
    """Delete temporaries left in ``folder`` by processes that no longer run; return how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    host = socket.gethostname()
    removed = 0
    for path in folder.iterdir():
        if not path.name.startswith(".") or TEMP_MARK not in path.name:
            continue
        tail = path.name.rsplit(TEMP_MARK, 1)[1]  # "<host>-<pid>-<random>" (tempfile's random part has no "-")
        try:
            writer_host, pid_text, _ = tail.rsplit("-", 2)
            pid = int(pid_text)
        except ValueError:
            writer_host, pid = "", -1
        stale = (writer_host == host and not _alive(pid)) or (
            writer_host != host and time.time() - path.stat().st_mtime > STALE_AFTER_SECONDS)
        if stale:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


def atomic_folder(final: Path) -> Path:
    """A temporary sibling of ``final`` to write into; :func:`commit_folder` renames it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(final.name), dir=final.parent))
    tmp.chmod(0o755)
    return tmp


def commit_folder(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp`` whole (an earlier folder of the same id holds the same result)."""
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=temp_prefix(final.name), dir=final.parent))
        os.replace(final, old / final.name)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def write_folder(final: Path, write) -> Path:
    """Call ``write(tmp)`` on a temporary folder, then put it in place as ``final``; nothing half-written stays."""
    tmp = atomic_folder(final)
    try:
        write(tmp)
        commit_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def write_into(folder: Path, write, last: str = "report.md") -> None:
    """Call ``write(tmp)`` on a temporary folder beside ``folder``'s files, then move each file it wrote into
    ``folder`` (``last`` last: a report that names the rest appears only once they are in place); the temporary
    is removed, or swept by :func:`remove_stale` if the process is killed."""
    staging = atomic_folder(folder / "report")
    try:
        write(staging)
        names = sorted(p.name for p in staging.iterdir())
        for name in [n for n in names if n != last] + [n for n in names if n == last]:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_file(path: Path, write) -> Path:
    """Call ``write(handle_path)`` on a temporary file, fsync it, then rename it to ``path`` (atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are for every reader
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    return write_file(path, lambda tmp: tmp.write_text(text))


def write_parquet(frame, path: Path) -> Path:
    """A DataFrame as Parquet (zstd), atomically."""
    return write_file(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd"))


# --- run records of a study --------------------------------------------------------------------------------------
def record_path(folder: Path, run_hash: str) -> Path:
    return Path(folder) / f"{run_hash}.parquet"


def write_record(folder: Path, run_hash: str, record: dict) -> Path:
    """One run's record as a one-row Parquet file, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([record])
    return write_file(record_path(folder, run_hash), lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def finished(folder: Path, series: Path | None = None) -> set[str]:
    """Hashes of runs with a successful record (and, if ``series`` is given, their series file).

    An error record does not count: it is retried; nor does a record without ``overrides`` (written by an
    earlier version, which could not say how to reproduce it): it runs again.
    """
    import pyarrow.parquet as pq

    done = set()
    for path in Path(folder).glob("*.parquet"):
        try:  # an unreadable or older record: the run runs again
            status = pq.read_table(path, columns=["status", "overrides"]).column("status")[0].as_py()
        except Exception:
            continue
        if status == "ok" and (series is None or (Path(series) / path.name).exists()):
            done.add(path.stem)
    return done


def read_records(folder: Path, hashes: list[str] | None = None):
    """The records in ``folder`` (only ``hashes``, if given) as one DataFrame."""
    import pandas as pd

    paths = sorted(Path(folder).glob("*.parquet"))
    if hashes is not None:
        wanted = set(hashes)
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
