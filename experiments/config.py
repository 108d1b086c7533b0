"""Compose, check and describe configurations: Hydra in, validated :class:`sim.Params` out.

The schema of ``conf/`` is the dataclasses of ``sim/params.py`` (plus the comparison settings below), registered
with Hydra's ConfigStore, so a typo'd key or a wrong type fails at composition; :func:`sim.params.validate`
then checks ranges and cross-key rules. Every failure becomes a :class:`ConfigError` whose message is one line
naming the key. Entry points compose with :func:`load_config` (Hydra's compose API, ``version_base="1.3"``)
rather than ``@hydra.main``, so that errors stay one line and a comparison can compose one config per run.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException, MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.params import ParamError, Params, choice, nonneg, positive, validate

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
RESULTS_DIR = ROOT / "results"
GROUPS = ("place", "scenario", "practice", "infrastructure", "uncertainty", "relations", "experiment")


@dataclass
class CompareConfig:
    """A replicated comparison: every scenario in ``scenarios`` x ``n_seeds`` replicate seeds."""

    name: str = "scenario_comparison"
    title: str = "Silo commissioning vs whole-system working"
    scenarios: list[str] = field(default_factory=lambda: ["silo", "whole_system"])
    n_seeds: int = positive(10)
    base_seed: int = nonneg(20261122)  # replicate seeds = SeedSequence(base_seed).spawn(n_seeds)
    workers: int = nonneg(0)  # processes; 0 = one per core
    baseline: str = "silo"  # differences in the report are "scenario minus baseline"
    confidence: float = field(default=0.95, metadata={"range": (0.5, 0.999, False)})


@dataclass
class Config(Params):
    """The composed configuration: the model's parameters plus the comparison settings."""

    compare: CompareConfig = field(default_factory=CompareConfig)
    progress: str = choice("auto", "auto", "on", "off")  # progress bars


class ConfigError(ValueError):
    """A user error in the configuration; ``str()`` is one line naming the key."""


def register_schema() -> None:
    ConfigStore.instance().store(name="schema", node=Config)


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _known_keys(node: Any, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        keys.append(prefix + f.name)
        if dataclasses.is_dataclass(value):
            keys += _known_keys(value, prefix + f.name + ".")
    return keys


def explain_error(exc: BaseException, schema: Any = None) -> str:
    """Turn a Hydra or OmegaConf exception into one line naming the key.

    ``schema`` (a dataclass instance, default ``Config()``) supplies the keys a typo is matched against.
    """
    known = _known_keys(schema if schema is not None else Config())
    if isinstance(exc, MissingConfigException):
        match = re.search(r"Could not find '([^'/]+)/([^']+)'", str(exc))
        if match:
            group, name = match.groups()
            return f"{group}: unknown option {name!r} (choose from {', '.join(options(group))})"
        match = re.search(r"Could not load '([^'/]+)/([^']+)'", str(exc))
        if match:
            group, name = match.groups()
            return f"{group}: unknown option {name!r} (choose from {', '.join(options(group))})"
    cause = exc
    while cause is not None:
        key = getattr(cause, "full_key", None)
        if key:
            text = str(cause).splitlines()[0]
            if "not in struct" in text or "not in '" in text:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return f"{key}: unknown key{hint}"
            match = re.match(r"^Value (.*) of type '\w+' could not be converted to (\w+)$", text)
            if match:
                kind = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}
                text = f"expected {kind.get(match.group(2), match.group(2))}, got {match.group(1)}"
            return f"{key}: {text}"
        cause = cause.__cause__ or cause.__context__
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    match = re.search(r"Could not override '([^']+)'", first)
    if match:
        key = match.group(1)
        close = difflib.get_close_matches(key, known, n=1)
        return f"{key}: unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    return first


def compose_config(overrides: list[str], config_name: str = "config") -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with command-line style ``overrides``; raise ConfigError."""
    register_schema()
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"{item}: expected key=value")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name=config_name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain_error(exc)) from None
    finally:
        GlobalHydra.instance().clear()


def to_params(cfg: DictConfig) -> Config:
    """Convert a composed config to validated dataclasses; raise ConfigError naming the first bad key."""
    try:
        params = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain_error(exc)) from None
    try:
        validate(params)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    for name in params.compare.scenarios:
        if name not in options("scenario"):
            raise ConfigError(f"compare.scenarios: unknown scenario {name!r} "
                              f"(choose from {', '.join(options('scenario'))})")
    return params


def load_config(overrides: list[str], config_name: str = "config") -> tuple[DictConfig, Config]:
    """Compose and validate: the one door through which every entry point reads its configuration."""
    cfg = compose_config(overrides, config_name)
    return cfg, to_params(cfg)


def model_params(params: Config) -> Params:
    """The part of a Config the model reads (drops the comparison settings)."""
    fields = {f.name: getattr(params, f.name) for f in dataclasses.fields(Params)}
    return Params(**fields)


def resolved_yaml(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg, resolve=True, sort_keys=False)


def config_hash(cfg: DictConfig) -> str:
    """A short hash of the model's resolved configuration (comparison settings and display options excluded)."""
    container = OmegaConf.to_container(cfg, resolve=True)
    for key in ("compare", "progress"):
        container.pop(key, None)
    text = OmegaConf.to_yaml(OmegaConf.create(container), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def quiet_libraries() -> None:
    """Mesa logs every step at INFO; keep the console for what a user needs."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    logging.getLogger("mesa").setLevel(logging.WARNING)
