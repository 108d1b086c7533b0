"""Run one simulation, and turn it into what the project stores: a run folder, or a record in a study.

:func:`simulate` builds and runs one model and returns its summary and tidy frames. :func:`write_run` writes a
run folder (``results/runs/<id>/``) whole or not at all. :func:`run_record` is the engine's worker: it runs one
planned run and writes its record (and, for a comparison, its monthly indicators) itself, so on a cluster results
land on the shared file system without passing through the driver.
"""

from __future__ import annotations

import json
import math
import platform
import time
import traceback
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .config import quiet_libraries


def versions() -> dict[str, str]:
    """Versions that bear on reproducing a result."""
    out = {"python": platform.python_version()}
    for name in ("placesim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "hydra-core"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def code_version() -> str:
    """The package version plus the git commit of the working tree, when there is one."""
    import subprocess

    text = version("placesim")
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=False).stdout.strip()
        if commit:
            text += f"+{commit}" + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return text


@dataclass
class RunResult:
    summary: dict[str, float]
    timeseries: Any  # pandas DataFrame, one row per week
    neighbourhoods: Any  # pandas DataFrame, one row per neighbourhood per four-week month


def simulate(params, *, progress: str = "off", label: str = "", resident_agents: bool = True) -> RunResult:
    """Build and run one model; return its summary and tidy frames. ``progress`` is auto | on | off."""
    from sim import PlaceModel

    from .cli import Progress

    quiet_libraries()
    model = PlaceModel(params, resident_agents=resident_agents)
    with Progress(model.n_weeks, "weeks", progress, label or "simulating") as bar:
        model.run(progress=lambda week: bar.update(1))
    return RunResult(model.summary(), model.timeseries(), model.neighbourhoods())


def clean_json(value):
    """NaN and infinities become null, so summary.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, float) and value == 0.0:
        return 0.0
    return value


def summary_document(result: RunResult, params, run_id: str, overrides: str) -> dict:
    """summary.json: run identity and how to reproduce it, outcomes, the nine system behaviours, versions."""
    outcomes = {k: v for k, v in result.summary.items() if not k.startswith("behaviour_")}
    behaviours = {k.removeprefix("behaviour_"): v for k, v in result.summary.items() if k.startswith("behaviour_")}
    return clean_json({
        "run_id": run_id,
        "overrides": overrides,
        "scenario": params.scenario.name,
        "place": params.place.name,
        "seed": params.seed,
        "residents": params.residents,
        "years": params.years,
        "burn_in_years": params.burn_in_years,
        **outcomes,
        "system_behaviours": behaviours,
        "versions": versions(),
    })


def write_run(result: RunResult, params, overrides: str, config_yaml: str, folder: Path, run_id: str,
              figures: bool = True) -> Path:
    """Write config.yaml, timeseries.parquet, neighbourhoods.parquet, summary.json (and the plots) whole."""
    from . import store

    def write(tmp: Path) -> None:
        (tmp / "config.yaml").write_text(config_yaml)
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False, engine="pyarrow", compression="zstd")
        result.neighbourhoods.to_parquet(tmp / "neighbourhoods.parquet", index=False, engine="pyarrow",
                                         compression="zstd")
        document = summary_document(result, params, run_id, overrides)
        (tmp / "summary.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        if figures:
            from ..reporting.plots import run_figures

            run_figures(result, params, tmp)

    return store.write_folder(folder, write)


def _cell(value: Any) -> Any:
    """A summary value as a table cell: numbers as float (so columns never flip type), None as NaN."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def config_yaml(config: dict) -> str:
    """The resolved YAML of a run, as ``config.resolved_yaml`` writes it (dumped in the worker)."""
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    return yaml.dump(config, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=get_omega_conf_dumper())


def run_record(spec, folder: str, version: str, series: bool = False) -> tuple[str, str]:
    """Worker: run one planned run and write its record to ``<folder>/runs/``; a failure writes an error record.

    With ``series``, the run's monthly indicators go to ``<folder>/series/<hash>.parquet`` first, so a record
    marked ``ok`` always has its series. Returns ``(hash, status)``, all the driver needs.
    """
    from sim.indicators import monthly_with_gap

    from . import store

    start = time.perf_counter()
    record: dict[str, Any] = {"run_hash": spec.run_hash, "overrides": spec.command, **spec.labels}
    try:
        result = simulate(spec.params, resident_agents=False)
        if series:
            months = monthly_with_gap(result.timeseries, result.neighbourhoods, spec.params.residents)
            store.write_parquet(months, Path(folder) / "series" / f"{spec.run_hash}.parquet")
        record.update({k: _cell(v) for k, v in result.summary.items()})
        record.update(status="ok", error=None)
    except Exception:
        record.update(status="error", error=traceback.format_exc())
    record.update(wall_seconds=time.perf_counter() - start, code_version=version, config=config_yaml(spec.config))
    store.write_record(Path(folder) / "runs", spec.run_hash, record)
    return spec.run_hash, record["status"]


def run_chunk(specs: list, folder: str, version: str, series: bool = False) -> list[tuple[str, str]]:
    """One cluster job: many runs in sequence (thousands of short runs must not be thousands of jobs)."""
    quiet_libraries()
    return [run_record(spec, folder, version, series) for spec in specs]
