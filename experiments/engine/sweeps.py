"""Sweep files: ``conf/sweep/<name>.yaml`` (and the sensitivity and discovery files built on them) composed,
checked and turned into a design and a plan.

A sweep file is a primary config of its own, composed by Hydra against :class:`SweepConfig`. On the command
line, ``sweep=<name>`` picks the file, keys of the schema (``n_seeds=4``, ``engine.workers=2``) override it, and
any other ``key=value`` is a model override added to the file's ``overrides``. Factors of a sampled design take
their range from ``conf/ranges.yaml`` unless the file narrows it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.params import ParamError, check_name, choice, nonneg, positive

from . import store
from .config import CONF_DIR, ConfigError, EngineSettings, check_overrides, check_settings, explain_error, options
from .designs import DESIGNS, Design, Factor
from .plan import Plan, check_reproducible, plan_runs
from .ranges import field_of, plausible
from .seeds import replicate_seeds
from .study import fingerprint


@dataclass
class ParameterSpec:
    """One model key to vary: ``values`` for a grid; for a sampled design, optional ``low``/``high`` narrowing
    its plausible range from conf/ranges.yaml."""

    key: str = "???"
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None


@dataclass
class SweepConfig:
    name: str = "???"  # the results folder: results/sweeps/<name>/
    title: str = ""
    design: str = choice("grid", *DESIGNS)
    samples: int = positive(8, 1_000_000)  # lhs: points; morris: trajectories; sobol: base N (points N * (k + 2))
    morris_levels: int = positive(4, 100)
    parameters: list[ParameterSpec] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=lambda: ["silo", "whole_system"])
    n_seeds: int = positive(2, 10_000)
    base_seed: int = nonneg(20261122, 2**63 - 1)
    overrides: list[str] = field(default_factory=list)  # fixed model overrides, e.g. residents=1000
    engine: EngineSettings = field(default_factory=EngineSettings)
    progress: str = choice("auto", "auto", "on", "off")


# --- composing a sweep file ------------------------------------------------------------------------------------
def split_argv(argv: list[str], group: str, schema: type) -> tuple[str, list[str], list[str]]:
    """``group=<name>`` picks the file; keys of ``schema`` override it; any other key=value is a model override."""
    check_overrides(argv, groups=(group,))
    name, own, model = None, [], []
    fields = {f.name for f in dataclasses.fields(schema)}
    for item in argv:
        key = item.split("=", 1)[0]
        if key == group:
            name = item.split("=", 1)[1]
        elif key.split(".")[0] in fields:
            own.append(item)
        else:
            model.append(item)
    if not name:
        raise ConfigError(f"{group}: missing; choose with {group}=<name> from {', '.join(options(group))}")
    return name, own, model


def compose_file(group: str, name: str, overrides: list[str], schema: type) -> Any:
    """Compose conf/<group>/<name>.yaml, a primary config of its own checked against ``schema``."""
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    folder = CONF_DIR / group
    if name not in options(group):
        raise ConfigError(f"{group}: unknown option {name!r} (choose from {', '.join(options(group))})")
    ConfigStore.instance().store(name=f"{group}_schema", node=schema)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(folder), version_base="1.3"):
            return compose(config_name=name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain_error(exc, schema())) from None
    finally:
        GlobalHydra.instance().clear()


def load_settings(argv: list[str], group: str, schema: type) -> tuple[Any, list[str]]:
    """Compose a sweep-like file with the command line: (settings dataclass, model overrides from the command)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    name, own, model = split_argv(argv, group, schema)
    cfg = compose_file(group, name, own, schema)
    try:
        settings = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain_error(exc, schema())) from None
    check_settings(settings)
    return settings, model


def load_sweep_config(argv: list[str], group: str = "sweep", schema: type = SweepConfig) -> SweepConfig:
    """Compose a sweep file plus the command line; command-line model overrides join the file's ``overrides``."""
    settings, model = load_settings(argv, group, schema)
    settings.overrides = [*settings.overrides, *model]
    check_sweep(settings)
    return settings


def check_sweep(s: SweepConfig) -> None:
    try:
        check_name("name", s.name)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    known = options("scenario")
    if not s.scenarios:
        raise ConfigError("scenarios: list at least one scenario")
    for name in s.scenarios:
        if name not in known:
            raise ConfigError(f"scenarios: unknown scenario {name!r} (choose from {', '.join(known)})")
    if len(set(s.scenarios)) != len(s.scenarios):
        raise ConfigError("scenarios: a scenario is listed twice")
    check_overrides(s.overrides)
    design_of(s)


def column_name(key: str) -> str:
    """The table column of a varied key: its last component (``uncertainty.need_coupling`` -> ``need_coupling``)."""
    return key.split(".")[-1]


def design_of(s: SweepConfig) -> Design:
    """The sweep's design, each factor checked and its range taken from conf/ranges.yaml where not given."""
    factors = []
    keys = [p.key for p in s.parameters]
    if len(set(keys)) != len(keys):
        raise ConfigError("parameters: a key is listed twice")
    if len({column_name(k) for k in keys}) != len(keys):
        raise ConfigError("parameters: two keys end in the same name; the table needs distinct columns")
    for i, p in enumerate(s.parameters):
        where = f"parameters[{i}] ({p.key})"
        try:
            _, default = field_of(p.key)
        except (KeyError, AttributeError):
            raise ConfigError(f"{p.key}: unknown key") from None
        integer = isinstance(default, int) and not isinstance(default, bool)
        if s.design == "grid":
            if not p.values:
                raise ConfigError(f"{where}: a grid needs `values`")
            factors.append(Factor(p.key, values=list(p.values), integer=integer))
            continue
        low, high = p.low, p.high
        if low is None or high is None:
            plausible_range = plausible(p.key)
            low = plausible_range.low if low is None else low
            high = plausible_range.high if high is None else high
        if not low < high:
            raise ConfigError(f"{where}: low must be below high")
        factors.append(Factor(p.key, low=float(low), high=float(high), integer=integer))
    if s.design != "grid" and not factors:
        raise ConfigError(f"parameters: design {s.design} needs at least one parameter")
    return Design(s.design, factors, s.samples, s.morris_levels, s.base_seed)


def sweep_folder(name: str) -> Path:
    return store.output_dir("sweeps", name)


def plan_sweep(s: SweepConfig) -> Plan:
    """Every run of the sweep, validated before any runs (the first run of each scenario is checked to be
    reproducible from its overrides)."""
    plan = plan_runs(s.overrides, s.scenarios, design_of(s).points(), replicate_seeds(s.base_seed, s.n_seeds),
                     labels={"sweep": s.name}, column=column_name)
    seen = set()
    for spec in plan.specs:
        if spec.labels["scenario"] not in seen:
            seen.add(spec.labels["scenario"])
            check_reproducible(spec)
    return plan


def definition(s: SweepConfig, argv: list[str]) -> tuple[dict, str]:
    """What ``sweeps/<name>/sweep.yaml`` records: the settings, the command line; and the model fingerprint."""
    from omegaconf import OmegaConf

    settings = OmegaConf.to_container(OmegaConf.structured(s), resolve=True)
    return ({"command_line": list(argv), "model_overrides": list(s.overrides), "settings": settings},
            fingerprint(s.overrides))
