"""Run simulations and write their outputs; the only code that writes to results/.

:func:`simulate` runs one model and returns tidy frames; :func:`write_run` writes a run folder atomically
(a temporary folder renamed into place), so a folder in results/runs/ is either complete or absent.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from sim import Params, PlaceModel

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


@dataclass
class RunResult:
    summary: dict[str, float]
    timeseries: pd.DataFrame
    neighbourhoods: pd.DataFrame


def show_progress(setting: str) -> bool:
    return setting == "on" or (setting == "auto" and sys.stderr.isatty())


def simulate(params: Params, *, progress: bool = False, label: str = "", resident_agents: bool = True) -> RunResult:
    """Build and run one model; return its summary and tidy frames."""
    quiet_libraries()
    model = PlaceModel(params, resident_agents=resident_agents)
    if progress:
        from tqdm import tqdm

        with tqdm(total=model.n_weeks, unit="wk", desc=label or "simulating", leave=False) as bar:
            model.run(progress=lambda week: bar.update(1))
    else:
        model.run()
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


def summary_document(result: RunResult, params: Params, run_id: str) -> dict:
    """summary.json: run identity, headline outcomes, the nine system behaviours as one object, versions."""
    outcomes = {k: v for k, v in result.summary.items() if not k.startswith("behaviour_")}
    behaviours = {k.removeprefix("behaviour_"): v for k, v in result.summary.items() if k.startswith("behaviour_")}
    return clean_json({
        "run_id": run_id,
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


def write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")


def atomic_folder(final: Path) -> Path:
    """A temporary sibling of ``final`` to write into; :func:`commit_folder` renames it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    tmp.chmod(0o755)
    return tmp


def commit_folder(tmp: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp`` (an earlier folder of the same id holds the same run; it is replaced whole)."""
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def write_run(result: RunResult, params: Params, config_yaml: str, folder: Path, run_id: str) -> Path:
    """Write config.yaml, timeseries.parquet, neighbourhoods.parquet, summary.json and the plots."""
    from .plots import run_figures

    tmp = atomic_folder(folder)
    try:
        (tmp / "config.yaml").write_text(config_yaml)
        write_parquet(result.timeseries, tmp / "timeseries.parquet")
        write_parquet(result.neighbourhoods, tmp / "neighbourhoods.parquet")
        write_json(tmp / "summary.json", summary_document(result, params, run_id))
        run_figures(result, params, tmp)
        commit_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
