"""Planning: every run of a comparison or a sweep, composed, validated and identified before any starts.

A run is a :class:`RunSpec`: its validated parameters, the hash of its resolved configuration (its identity in
the store), and ``overrides``, the exact ``key=value`` list that reproduces it with ``experiments.run``. Hydra
composes each scenario's configuration once; each point of a design and each replicate seed is applied to a copy
with OmegaConf and validated by the same validator as a single run.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from sim import Params

from .config import ConfigError, container_hash, explain_error, load_config, model_container, model_params, to_params


@dataclass
class RunSpec:
    """One run: what to simulate, how to name it, and how to reproduce it."""

    run_hash: str
    params: Params
    overrides: list[str]  # experiments.run with these reproduces this run exactly
    labels: dict[str, Any]  # scenario, replicate, seed, point and the varied values: the run's place in the plan
    config: dict[str, Any] = field(default_factory=dict)  # the resolved model configuration, as plain containers

    @property
    def command(self) -> str:
        """The overrides as one shell-quoted string (what records store)."""
        return shlex.join(self.overrides)


_PLAIN = re.compile(r"^[A-Za-z0-9_./-]+$")


def format_value(value: Any) -> str:
    """A value as Hydra's override grammar reads it back unchanged (floats round-trip exactly)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{value!r}: not a finite number")
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text) and text not in ("null", "true", "false") and not _looks_numeric(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_override(key: str, value: Any) -> str:
    return f"{key}={format_value(value)}"


def apply_point(base: Any, point: dict[str, Any], seed: int) -> Any:
    """A copy of the composed ``base`` with the point's values and the seed; raise ConfigError naming a bad key."""
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

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
        try:
            OmegaConf.update(cfg, key, value, merge=False)
        except OmegaConfBaseException as exc:
            raise ConfigError(explain_error(exc)) from None
    cfg.seed = seed
    return cfg


def _has_key(cfg: Any, key: str) -> bool:
    from omegaconf import DictConfig, OmegaConf

    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    return isinstance(node, DictConfig) and leaf in node


@dataclass
class Plan:
    """The runs of a study: ``specs`` once per distinct configuration, ``index`` one row per (scenario, point,
    replicate), duplicates included (a sampled design may repeat a point; its analysis needs every row)."""

    specs: list[RunSpec]
    index: list[dict[str, Any]]

    @property
    def hashes(self) -> list[str]:
        return [spec.run_hash for spec in self.specs]


def plan_runs(fixed: list[str], scenarios: list[str], points: list[dict[str, Any]], seeds: list[int],
              labels: dict[str, Any] | None = None, column=lambda key: key,
              point_seeds: list[list[int]] | None = None) -> Plan:
    """Every run of ``scenarios`` x ``points`` x ``seeds``, each validated, hashed and given its overrides.

    ``fixed`` are model overrides shared by every run (a ``scenario=`` or ``seed=`` among them is refused: the
    plan sets both). ``column(key)`` names a varied key's column in the table. ``point_seeds`` gives each point
    its own seeds instead (calibration: one independent seed per design point, shared by the scenarios).
    """
    for item in fixed:
        key = item.split("=", 1)[0]
        if key in ("scenario", "seed"):
            raise ConfigError(f"{key}: set by the plan for every run; choose scenarios and seeds in its settings")
    specs: dict[str, RunSpec] = {}
    index = []
    for scenario in scenarios:
        scenario_overrides = [*fixed, f"scenario={scenario}"]
        base, _ = load_config(scenario_overrides)  # Hydra once per scenario
        for point_index, point in enumerate(points):
            seeds_here = point_seeds[point_index] if point_seeds is not None else seeds
            cfg = apply_point(base, point, seeds_here[0])
            params = model_params(to_params(cfg))
            container = model_container(cfg)
            point_overrides = [format_override(k, v) for k, v in point.items()]
            for replicate, seed in enumerate(seeds_here):
                run_config = {**container, "seed": seed}
                run_hash = container_hash(run_config)
                row = {**(labels or {}), "point": point_index, "scenario": scenario, "replicate": replicate,
                       "seed": seed, **{column(k): v for k, v in point.items()}}
                index.append({"run_hash": run_hash, **row})
                if run_hash not in specs:
                    overrides = [*scenario_overrides, *point_overrides, f"seed={seed}"]
                    specs[run_hash] = RunSpec(run_hash, dataclasses.replace(params, seed=seed), overrides, row,
                                              run_config)
    return Plan(list(specs.values()), index)


def check_reproducible(spec: RunSpec) -> None:
    """Compose ``spec.overrides`` as ``experiments.run`` would and check it gives the same configuration.

    Cheap insurance (one composition) that a record's ``overrides`` re-run it exactly; called on the first run
    of each scenario when a study is planned.
    """
    cfg, _ = load_config(spec.overrides)
    if container_hash(model_container(cfg)) != spec.run_hash:
        raise ConfigError(f"overrides: {spec.command!r} does not reproduce run {spec.run_hash} (a value that "
                          "does not survive the command line?)")
