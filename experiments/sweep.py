"""Designed, resumable, parallel sweeps: conf/sweep/<name>.yaml in, one Parquet record per run out.

    .venv/bin/python -m experiments.sweep sweep=smoke
    .venv/bin/python -m experiments.sweep sweep=uncertainty_lhs executor=dask workers=2
    .venv/bin/python -m experiments.sweep sweep=uncertainty_lhs executor=dask dask.address=tcp://host:8786
    .venv/bin/python -m experiments.sweep sweep=benchmark executor=submitit submitit.slurm_partition=short
    .venv/bin/python -m experiments.sweep sweep=smoke residents=2000      # any other key=value: a model override

A sweep file names a design (grid | lhs | morris | sobol), the dotted model keys to vary with their values or
ranges, the scenarios, ``n_seeds`` replicate seeds from ``base_seed`` (SeedSequence.spawn, shared by every
point and scenario: common random numbers), fixed model overrides and the executor. The sweep file is composed
by Hydra against the schema below; each scenario's model config is composed once by Hydra, and each run's
values are applied to a copy with OmegaConf and validated by the same validator as a single run, so every run
is checked before any starts (exit 2, one line naming the key, nothing written). Records land in
results/sweeps/<name>/runs/<hash>.parquet; a rerun skips finished runs; the end compacts them into
results/sweeps/<name>/table.parquet. See docs/SWEEPS.md.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from . import store
from .cli import fail, help_requested, relative
from .compare import replicate_seeds
from .config import CONF_DIR, ConfigError, explain_error, load_config, model_params, to_params
from .executors import ExecutorSettings, RunSpec, execute

DESIGNS = ("grid", "lhs", "morris", "sobol")
EXECUTORS = ("local", "dask", "submitit")


@dataclass
class ParameterSpec:
    """One model key to vary: ``values`` for a grid, ``low``/``high`` for a sampled design."""

    key: str = "???"
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None


@dataclass
class DaskSettings:
    address: str | None = None  # an existing scheduler; null = start a LocalCluster with `workers` processes


@dataclass
class SubmititSettings:
    folder: str = "results/submitit"  # job logs and pickles (relative to the repository root)
    cluster: str | None = None  # null = auto (Slurm if available, else local); debug = in the driver process
    chunk_size: int = 50  # runs per submitted job
    timeout_min: int = 60  # per job: chunk_size x per-run time, with a margin
    cpus_per_task: int = 1
    mem_gb: float = 2.0
    slurm_partition: str | None = None
    slurm_array_parallelism: int = 100  # jobs of the array running at once


@dataclass
class SweepConfig:
    name: str = "???"
    title: str = ""
    design: str = "grid"  # grid | lhs | morris | sobol
    samples: int = 8  # lhs: points; morris: trajectories; sobol: base sample N (points = N * (k + 2))
    morris_levels: int = 4
    parameters: list[ParameterSpec] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=lambda: ["silo", "whole_system"])
    n_seeds: int = 2
    base_seed: int = 20261122
    overrides: list[str] = field(default_factory=list)  # fixed model overrides, e.g. residents=1000
    executor: str = "local"  # local | dask | submitit
    workers: int = 0  # local / dask LocalCluster processes; 0 = one per core
    dask: DaskSettings = field(default_factory=DaskSettings)
    submitit: SubmititSettings = field(default_factory=SubmititSettings)
    progress: str = "auto"  # auto | on | off


# --- composing the sweep file -------------------------------------------------------------------------------

def split_argv(argv: list[str], group: str, schema: type) -> tuple[str, list[str], list[str]]:
    """``group=<name>`` picks the file; keys of ``schema`` override it; any other key=value is a model override."""
    name, own, model = None, [], []
    fields = set(schema.__dataclass_fields__)
    for item in argv:
        if "=" not in item:
            raise ConfigError(f"{item}: expected key=value")
        key, value = item.split("=", 1)
        if key == group:
            name = value
        elif key.lstrip("+~").split(".")[0] in fields:
            own.append(item)
        else:
            model.append(item)
    if not name:
        available = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
        raise ConfigError(f"{group}: missing; choose with {group}=<name> from {', '.join(available)}")
    return name, own, model


def compose_file(group: str, name: str, overrides: list[str], schema: type, schema_name: str) -> DictConfig:
    """Compose conf/<group>/<name>.yaml, a primary config of its own checked against ``schema``."""
    folder = CONF_DIR / group
    if not (folder / f"{name}.yaml").exists():
        available = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ConfigError(f"{group}: unknown option {name!r} (choose from {', '.join(available)})")
    ConfigStore.instance().store(name=schema_name, node=schema)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(folder), version_base="1.3"):
            return compose(config_name=name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain_error(exc, schema())) from None
    finally:
        GlobalHydra.instance().clear()


def load_sweep_config(argv: list[str], group: str = "sweep", schema: type = SweepConfig):
    """Compose a sweep file plus command-line overrides; return (DictConfig, dataclass)."""
    name, own, model = split_argv(argv, group, schema)
    cfg = compose_file(group, name, own, schema, f"{group}_schema")
    try:
        settings = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain_error(exc, schema())) from None
    settings.overrides = [*settings.overrides, *model]
    check_settings(settings)
    return cfg, settings


def check_settings(s: SweepConfig) -> None:
    if s.design not in DESIGNS:
        raise ConfigError(f"design: {s.design!r} is not one of {', '.join(DESIGNS)}")
    if s.executor not in EXECUTORS:
        raise ConfigError(f"executor: {s.executor!r} is not one of {', '.join(EXECUTORS)}")
    if s.n_seeds < 1:
        raise ConfigError(f"n_seeds: must be at least 1, got {s.n_seeds}")
    if s.samples < 1:
        raise ConfigError(f"samples: must be at least 1, got {s.samples}")
    if not s.scenarios:
        raise ConfigError("scenarios: empty")
    keys = [p.key for p in s.parameters]
    if len(set(keys)) != len(keys):
        raise ConfigError("parameters: a key is listed twice")
    if len({column_name(k) for k in keys}) != len(keys):
        raise ConfigError("parameters: two keys end in the same name; the table needs distinct columns")
    for i, p in enumerate(s.parameters):
        where = f"parameters[{i}] ({p.key})"
        if s.design == "grid" and not p.values:
            raise ConfigError(f"{where}: a grid needs `values`")
        if s.design != "grid":
            if p.low is None or p.high is None:
                raise ConfigError(f"{where}: design {s.design} needs `low` and `high`")
            if not p.low < p.high:
                raise ConfigError(f"{where}: low must be below high")
    if s.design != "grid" and not s.parameters:
        raise ConfigError(f"parameters: design {s.design} needs at least one parameter")


def column_name(key: str) -> str:
    """The table column of a varied key: its last component (``uncertainty.need_coupling`` -> ``need_coupling``)."""
    return key.split(".")[-1]


# --- the design ---------------------------------------------------------------------------------------------

def problem(s: SweepConfig) -> dict:
    """The SALib problem of a sampled design (names are the dotted keys)."""
    return {"num_vars": len(s.parameters), "names": [p.key for p in s.parameters],
            "bounds": [[float(p.low), float(p.high)] for p in s.parameters]}


def design_points(s: SweepConfig) -> list[dict[str, Any]]:
    """The sweep's points, in a fixed order: the same file always gives the same points."""
    keys = [p.key for p in s.parameters]
    if s.design == "grid":
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*[p.values for p in s.parameters])]
    if s.design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(s.base_seed)).random(s.samples)
        low = np.array([p.low for p in s.parameters])
        high = np.array([p.high for p in s.parameters])
        matrix = qmc.scale(unit, low, high)
    elif s.design == "morris":
        from SALib.sample import morris

        matrix = morris.sample(problem(s), s.samples, num_levels=s.morris_levels, seed=s.base_seed)
    else:
        from SALib.sample import sobol

        matrix = sobol.sample(problem(s), s.samples, calc_second_order=False, seed=s.base_seed)
    return [dict(zip(keys, (float(v) for v in row), strict=True)) for row in matrix]


# --- planning: every run composed and validated before any runs ------------------------------------------

def _override_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def apply_point(base: DictConfig, point: dict[str, Any], seed: int) -> DictConfig:
    """A copy of ``base`` with the point's values and the seed; raise ConfigError naming a bad key."""
    cfg = copy.deepcopy(base)
    for key, value in point.items():
        try:
            node = OmegaConf.select(cfg, key, throw_on_missing=False)
        except OmegaConfBaseException:
            node = None
        if node is None and not _has_key(cfg, key):
            raise ConfigError(f"{key}: unknown key")
        if isinstance(node, DictConfig):
            raise ConfigError(f"{key}: is a group of keys, not a value")
        if isinstance(node, int) and not isinstance(node, bool) and isinstance(value, float):
            value = round(value)  # an integer key sampled on a continuous range
        try:
            OmegaConf.update(cfg, key, value, merge=False)
        except OmegaConfBaseException as exc:
            raise ConfigError(explain_error(exc)) from None
    cfg.seed = seed
    return cfg


def _has_key(cfg: DictConfig, key: str) -> bool:
    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    return isinstance(node, DictConfig) and leaf in node


def plan(s: SweepConfig, index: dict[tuple[str, int, int], str] | None = None) -> list[RunSpec]:
    """Every run of the sweep, validated; duplicates (same resolved config) appear once.

    Hydra composes each scenario once; each point is applied with OmegaConf and validated once (the seed is
    the only difference between a point's replicates, and every SeedSequence seed is valid); each replicate's
    hash is computed from a plain copy. ``index``, if given, is filled with (scenario, point, replicate) -> run
    hash, duplicates included (a sampled design may repeat a point; its analysis needs every row).
    """
    seeds = replicate_seeds(s.base_seed, s.n_seeds)
    points = design_points(s)
    specs: dict[str, RunSpec] = {}
    for scenario in s.scenarios:
        base, _ = load_config([*s.overrides, f"scenario={scenario}"])  # Hydra once per scenario
        for point_index, point in enumerate(points):
            cfg = apply_point(base, point, seeds[0])
            params = model_params(to_params(cfg))
            container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
            for replicate, seed in enumerate(seeds):
                run_config = {**container, "seed": seed}
                run_hash = container_hash(run_config)
                if index is not None:
                    index[(scenario, point_index, replicate)] = run_hash
                if run_hash in specs:
                    continue
                labels = {"sweep": s.name, "point": point_index, "scenario": scenario, "replicate": replicate,
                          "seed": seed, **{column_name(k): v for k, v in point.items()}}
                specs[run_hash] = RunSpec(run_hash, dataclasses.replace(params, seed=seed), labels, run_config)
    return list(specs.values())


def container_hash(container: dict) -> str:
    """:func:`experiments.config.config_hash` of a resolved plain container (same text, same hash), without
    rebuilding a DictConfig: that rebuild cost more than everything else in planning a run."""
    from omegaconf._utils import get_omega_conf_dumper

    model = {k: v for k, v in container.items() if k not in ("compare", "progress")}
    text = yaml.dump(model, default_flow_style=False, allow_unicode=True, sort_keys=True,
                     Dumper=get_omega_conf_dumper())
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def executor_settings(s: SweepConfig) -> ExecutorSettings:
    from .config import ROOT

    submitit = dict(OmegaConf.to_container(OmegaConf.structured(s.submitit)))
    folder = submitit["folder"]
    submitit["folder"] = folder if folder.startswith("/") else str(ROOT / folder)
    return ExecutorSettings(kind=s.executor, workers=s.workers, dask_address=s.dask.address, submitit=submitit)


# --- running ------------------------------------------------------------------------------------------------

ORDER = ["point", "scenario", "replicate"]


def run_sweep(s: SweepConfig, specs: list[RunSpec], cfg: DictConfig | None = None, quiet: bool = False) -> dict:
    """Run the specs not yet finished, with one progress bar; compact; return counts."""
    folder = store.runs_dir(s.name)
    folder.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temporaries(folder)
    if cfg is not None:
        (store.sweep_dir(s.name) / "sweep.yaml").write_text(OmegaConf.to_yaml(cfg))
    done = store.finished(folder)
    pending = [spec for spec in specs if spec.run_hash not in done]
    settings = executor_settings(s)
    say = (lambda *a: None) if quiet else print
    say(f"Sweep {s.name}: {len(specs)} runs ({len(specs) - len(pending)} finished, {len(pending)} to run) "
        f"on {s.executor}" + (f" (workers: {settings.workers or 'one per core'})" if s.executor != "submitit" else ""))
    counts = {"total": len(specs), "skipped": len(specs) - len(pending), "ok": 0, "error": 0}
    from .runner import show_progress

    bar = None
    if show_progress(s.progress) and pending:
        from tqdm import tqdm

        bar = tqdm(total=len(pending), unit="run", desc="runs", file=sys.stderr)
        bar.set_postfix(failed=0)

    def on_done(run_hash: str, status: str) -> None:
        counts["ok" if status == "ok" else "error"] += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(failed=counts["error"])

    start = time.perf_counter()
    try:
        execute(pending, folder, settings, on_done)
    finally:
        if bar is not None:
            bar.close()
    counts["wall_seconds"] = time.perf_counter() - start
    table = store.compact(s.name, ORDER)
    say(f"Done: {counts['ok']} ran, {counts['error']} failed, {counts['skipped']} skipped "
        f"in {counts['wall_seconds']:.1f} s. Table: {relative(table)}")
    if counts["error"]:
        say("Failed runs keep their traceback in the `error` column; run the same command again to retry them.")
    return counts


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if help_requested(argv, __doc__, ("sweep",)):
        return 0
    try:
        cfg, settings = load_sweep_config(argv)
        specs = plan(settings)
    except ConfigError as exc:
        return fail(exc)
    counts = run_sweep(settings, specs, cfg)
    return 1 if counts["error"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
