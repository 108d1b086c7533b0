"""A study: a planned set of runs in one folder, run on the engine, resumable, compacted into one table.

Comparisons and sweeps are both studies. The folder holds the study's definition (``<kind>.yaml``: its
settings, the command line that made it and a fingerprint of its model configuration), one record per run
(``runs/``), for a comparison each run's monthly indicators (``series/``), and ``table.parquet``: exactly the
runs of the current plan, one row per (scenario, point, replicate). Running a study again skips finished runs;
running it with another model configuration under the same name is refused, so a table never mixes two.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import store
from .cli import Progress
from .config import ConfigError, EngineSettings
from .executors import check_engine, execute
from .plan import Plan


def fingerprint(items: list[str]) -> str:
    """A short hash of a list of strings (a study's fixed model overrides, in order, or its sorted run hashes)."""
    return hashlib.sha256(json.dumps(list(items)).encode()).hexdigest()[:8]


def claim(folder: Path, kind: str, definition: dict[str, Any], stamp: str, name_key: str = "name") -> None:
    """Write the study's definition to ``<folder>/<kind>.yaml``; refuse if the folder holds another configuration.

    ``stamp`` identifies the model configuration (see :func:`fingerprint`); the rest of the definition (design
    size, seeds, engine) may change between runs of the same study.
    """
    import yaml

    path = Path(folder) / f"{kind}.yaml"
    if path.exists():
        try:
            earlier = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            earlier = {}
        if earlier.get("fingerprint") not in (None, stamp):
            raise ConfigError(
                f"{name_key}: {kind} {Path(folder).name!r} was run with other model settings "
                f"({earlier.get('model_overrides')}); choose another {name_key}=... or remove {folder}")
    store.write_text(path, yaml.safe_dump({**definition, "fingerprint": stamp}, sort_keys=False))


@dataclass
class StudyCounts:
    total: int
    skipped: int
    ok: int = 0
    error: int = 0
    wall_seconds: float = 0.0


def run_study(folder: Path, plan: Plan, engine: EngineSettings, progress: str, *, series: bool = False,
              say=print, label: str = "runs", order: list[str] | None = None) -> StudyCounts:
    """Run the plan's unfinished runs on the engine with one progress display, then compact the table."""
    folder = Path(folder)
    runs = folder / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for sub in (folder, runs, folder / "series"):
        store.remove_stale(sub)
    done = store.finished(runs, folder / "series" if series else None)
    pending = [spec for spec in plan.specs if spec.run_hash not in done]
    where = check_engine(engine)
    outcome = StudyCounts(len(plan.specs), len(plan.specs) - len(pending))
    say(f"{label}: {len(plan.specs)} runs ({outcome.skipped} finished, {len(pending)} to run) on {where}")
    start = time.perf_counter()
    with Progress(len(pending), "runs", progress, label) as bar:
        def on_done(run_hash: str, status: str) -> None:
            ok = status == "ok"
            outcome.ok += ok
            outcome.error += not ok
            bar.update(1, failed=0 if ok else 1)

        execute(pending, folder, engine, on_done, series=series)
    outcome.wall_seconds = time.perf_counter() - start
    compact(folder, plan, order)
    return outcome


def say_failed(outcome: StudyCounts, folder: Path, say=print) -> bool:
    """If runs failed, say where their tracebacks are and how to retry; True if any did."""
    if not outcome.error:
        return False
    from .cli import relative

    say(f"{outcome.error} run(s) failed (their traceback is in the `error` column of "
        f"{relative(Path(folder) / 'table.parquet')}); run the same command again to retry them.")
    return True


def compact(folder: Path, plan: Plan, order: list[str] | None = None):
    """``table.parquet``: the plan's index joined to its runs' records (one row per scenario, point, replicate),
    in plan order or sorted by ``order``."""
    import pandas as pd

    records = store.read_records(Path(folder) / "runs", plan.hashes)
    index = pd.DataFrame(plan.index)
    if records.empty:
        table = index.assign(status="missing")
    else:
        own = [c for c in records.columns if c == "run_hash" or c not in index.columns]
        table = index.merge(records[own], on="run_hash", how="left")
        table["status"] = table["status"].fillna("missing")
    if order:
        table = table.sort_values([c for c in order if c in table.columns], kind="stable", ignore_index=True)
    store.write_parquet(table, Path(folder) / "table.parquet")
    return table


def labelled_series(folder: Path, runs, labels: tuple[str, ...]):
    """Every run's monthly indicators in one table, each row carrying its run's ``labels`` columns."""
    import pandas as pd

    series = read_series(folder, list(runs["run_hash"]))
    return pd.concat([series[row["run_hash"]].assign(**{k: row[k] for k in labels})
                      for row in runs.to_dict("records")], ignore_index=True)


def read_series(folder: Path, hashes: list[str]):
    """The monthly indicators of these runs, keyed by run hash."""
    import pandas as pd

    return {h: pd.read_parquet(Path(folder) / "series" / f"{h}.parquet") for h in hashes}
