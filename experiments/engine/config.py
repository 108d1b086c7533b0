"""The configuration door: command-line overrides in, validated :class:`sim.Params` out, or one line naming the key.

The schema of ``conf/`` is the dataclasses of ``sim/params.py`` plus the run settings below (the comparison, the
engine, progress), registered with Hydra's ConfigStore, so a typo'd key or a wrong type fails at composition;
:func:`sim.params.validate` then checks ranges and cross-key rules. Every failure becomes a :class:`ConfigError`
whose message is one line naming the key. Entry points compose with :func:`load_config` (Hydra's compose API,
``version_base="1.3"``) rather than ``@hydra.main``, so that errors stay one line and one process can compose
one configuration per run.
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

from omegaconf import MISSING

from sim.params import ParamError, Params, check_name, choice, nonneg, plain_name, positive, prob, validate

ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = ROOT / "conf"
GROUPS = ("place", "scenario", "practice", "infrastructure", "uncertainty", "relations", "experiment", "calibration",
          "ensemble")
# keys of the composed config that are not the model's
RUN_SETTINGS = ("compare", "decompose", "calibration", "ensemble", "engine", "progress", "figures")
EXECUTORS = ("local", "dask", "submitit")


@dataclass
class DaskSettings:
    address: str | None = None  # an existing scheduler, e.g. tcp://10.0.0.5:8786; null = a LocalCluster here


@dataclass
class SubmititSettings:
    cluster: str | None = choice(None, None, "slurm", "local", "debug")  # null = Slurm if sbatch is found, else local
    chunk_size: int = positive(50, 100_000)  # runs per submitted job
    timeout_min: int = positive(60, 60 * 24 * 30)  # per job: chunk_size x per-run time, with a margin
    cpus_per_task: int = positive(1, 1024)
    mem_gb: float = positive(2.0, 10_000.0)
    slurm_partition: str | None = None
    slurm_array_parallelism: int = positive(100, 100_000)  # jobs of the array running at once


@dataclass
class EngineSettings:
    """Where runs run: a local process pool, Dask, or Slurm through submitit (docs/SWEEPS.md)."""

    executor: str = choice("local", *EXECUTORS)
    workers: int = nonneg(0, 1024)  # local processes or Dask LocalCluster workers; 0 = one per core
    dask: DaskSettings = field(default_factory=DaskSettings)
    submitit: SubmititSettings = field(default_factory=SubmititSettings)


@dataclass
class CompareConfig:
    """A replicated comparison: every scenario in ``scenarios`` x ``n_seeds`` replicate seeds."""

    name: str = plain_name("scenario_comparison")
    title: str = "Silo commissioning vs whole-system working"
    scenarios: list[str] = field(default_factory=lambda: ["silo", "whole_system"])
    n_seeds: int = positive(10, 10_000)
    base_seed: int = nonneg(20261122, 2**63 - 1)  # replicate seeds = SeedSequence(base_seed).spawn(n_seeds)
    baseline: str = "silo"  # differences in the report are "scenario minus baseline"
    confidence: float = field(default=0.95, metadata={"range": (0.5, 0.999, False)})


@dataclass
class DecomposeConfig:
    """A decomposition of a reform into its parts (experiments.decompose): each factor at its silo or reformed
    level in a two-level fractional factorial of resolution V, on ``scenario`` (the full reform)."""

    name: str = plain_name("whole_system")
    title: str = "Whole-system working decomposed"
    scenario: str = "whole_system"  # the full reform: every factor at its reformed level
    n_seeds: int = positive(2, 1000)  # replicate seeds at every design point (common random numbers)
    base_seed: int = nonneg(20261122, 2**63 - 1)
    confidence: float = field(default=0.95, metadata={"range": (0.5, 0.999, False)})
    outcomes: list[str] = field(default_factory=lambda: ["mean_wellbeing", "crises_per_1000_per_year",
                                                         "failure_demand_share", "mean_wait_weeks", "total_cost"])
    # components of the new way (sim/route.py PRACTICE_COMPONENTS: at the silo level practice.new takes
    # practice.usual's value for the component's lever) and parts of infrastructure (at the silo level never
    # reformed)
    factors: list[str] = field(default_factory=lambda: [
        "no_wrong_door", "bespoke_support", "warm_handoff", "relationship_time", "devolved_discretion",
        "proportionate_response", "triage_by_need", "commissioning", "accountability", "funding",
        "staff_development"])


@dataclass
class PatternConfig:
    """An observed pattern (conf/calibration/*.yaml): outcome ``outcome`` of summary.json, simulated under route
    ``scenario`` and uncertainty file ``uncertainty``, should lie in [low, high]."""

    name: str = MISSING
    outcome: str = MISSING
    low: float = MISSING
    high: float = MISSING
    scenario: str = "silo"  # the route it is observed under (silo: today's system)
    uncertainty: str = "baseline"  # an option of conf/uncertainty/ (e.g. austerity)
    source: str = ""
    discrepancy: float = nonneg(0.0)  # model-discrepancy standard deviation, on the emulated scale
    log_offset: float | None = None  # emulate log(outcome + log_offset), for outcomes spanning orders of magnitude
    required: bool = True  # false: a check, simulated and reported for every world but ruling nothing out


@dataclass
class DriversConfig:
    """Sobol indices of a scenario's difference from the baseline, on emulators over the plausible space."""

    enabled: bool = True
    scenario: str = "whole_system"
    baseline: str = "silo"
    outcomes: list[str] = field(default_factory=lambda: ["mean_wellbeing", "crises_per_1000_per_year",
                                                         "failure_demand_share", "total_cost"])
    samples: int = positive(1024, 2**20)  # Saltelli base sample size on the emulators (cheap: no simulation)


@dataclass
class CalibrationConfig:
    """History matching to observed patterns (experiments.calibrate; docs/CALIBRATION.md)."""

    name: str = plain_name("default")
    title: str = "Calibration to observed patterns"
    overrides: list[str] = field(default_factory=list)  # model overrides for every run, e.g. residents=5000
    parameters: list[str] = field(default_factory=list)  # empty: every key of conf/ranges.yaml not in `exclude`
    exclude: list[str] = field(default_factory=lambda: ["uncertainty.budget_change_per_year",
                                                        "uncertainty.demand_change_per_year"])
    patterns: list[PatternConfig] = field(default_factory=list)
    wave_size: int = positive(80, 100_000)  # design points a wave simulates
    max_waves: int = positive(4, 100)
    min_shrink: float = prob(0.1)  # stop when a wave rules out less than this share of what was left
    replicate_points: int = nonneg(8, 100_000)  # points of each wave simulated with extra seeds (seed variance)
    replicates: int = nonneg(2, 100)  # extra seeds at each of those points
    validation_folds: int = positive(5, 100)  # each wave's emulators are checked on held-out runs, k-fold (>= 2)
    candidates: int = positive(80, 100_000)  # non-implausible points simulated to find the worlds that fit
    candidate_cutoff: float = positive(2.0, 3.0)  # drawn where every implausibility is below this (the core)
    candidate_ranking: str = choice("spread", "spread", "fit")  # spread: maximin over the core; fit: the points
    # most likely to land in every band (classifiers on the waves' runs) first, then spread among those
    acceptance_seeds: int = positive(3, 100)  # a candidate fits when its mean over these seeds is in every band
    acceptance_batch: int = positive(40, 100_000)  # candidates simulated at a time; stop once ensemble_size fit
    acceptance_screen: float = nonneg(3.0, 100.0)  # further seeds only where the first is within this many seed
    # standard deviations of every band (0: every candidate on every seed)
    ensemble_size: int = positive(30, 10_000)  # at most this many worlds kept, spread out over the plausible space
    seeds_per_world: int = positive(2, 1000)  # replicate seeds per world when the ensemble is compared
    base_seed: int = nonneg(20261129, 2**63 - 1)
    write_ensemble: bool = True  # also write conf/ensemble/<name>.yaml
    drivers: DriversConfig = field(default_factory=DriversConfig)


@dataclass
class WorldConfig:
    id: int = nonneg(0, 10**9)
    overrides: list[str] = field(default_factory=list)  # key=value of every calibrated parameter


@dataclass
class EnsembleConfig:
    """Plausible worlds (conf/ensemble/*.yaml, written by experiments.calibrate): compared by
    ``experiments.compare ensemble=<name>``; none by default."""

    name: str = ""
    calibration: str = ""  # the calibration that made it
    made_with: str = ""  # the command that made it
    fixed: list[str] = field(default_factory=list)  # model overrides it was calibrated with (place, residents, ...)
    seeds_per_world: int = positive(2, 1000)
    notes: list[str] = field(default_factory=list)  # what the worlds meet and what they do not (each pattern)
    worlds: list[WorldConfig] = field(default_factory=list)


@dataclass
class Config(Params):
    """The composed configuration: the model's parameters plus the run settings."""

    compare: CompareConfig = field(default_factory=CompareConfig)
    decompose: DecomposeConfig = field(default_factory=DecomposeConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    engine: EngineSettings = field(default_factory=EngineSettings)
    progress: str = choice("auto", "auto", "on", "off")  # progress bars on a terminal, lines in a log
    figures: bool = False  # experiments.run: also draw overview.png


class ConfigError(ValueError):
    """A user error in the configuration; ``str()`` is one line naming the key."""


def register_schema() -> None:
    from hydra.core.config_store import ConfigStore

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


def _unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"{key}: unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")


def explain_error(exc: BaseException, schema: Any = None) -> str:
    """Turn a Hydra or OmegaConf exception into one line naming the key.

    ``schema`` (a dataclass instance, default ``Config()``) supplies the keys a typo is matched against.
    """
    from hydra.errors import MissingConfigException

    known = _known_keys(schema if schema is not None else Config())
    if isinstance(exc, MissingConfigException):
        match = re.search(r"Could not (?:find|load) '([^'/]+)/([^']+)'", str(exc))
        if match:
            group, name = match.groups()
            return f"{group}: unknown option {name!r} (choose from {', '.join(options(group))})"
    cause = exc
    while cause is not None:
        key = getattr(cause, "full_key", None)
        if key:
            text = str(cause).splitlines()[0]
            if "not in struct" in text or "not in '" in text:
                return _unknown(key, known)
            match = re.match(r"^Value (.*) of type '\w+' could not be converted to (\w+)$", text)
            if match:
                kind = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}
                text = f"expected {kind.get(match.group(2), match.group(2))}, got {match.group(1)}"
            return f"{key}: {text}"
        cause = cause.__cause__ or cause.__context__
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    match = re.search(r"Could not override '([^']+)'", first)
    if match:
        return _unknown(match.group(1), known)
    return first


def check_overrides(overrides: list[str], groups: tuple[str, ...] = GROUPS) -> None:
    """Refuse, with one line naming the key, any command-line item that is not a plain ``key=value``.

    Adding (``+key``, ``++key``) or deleting (``~key``) keys is refused: every key exists in the schema, so a
    new one can only be a typo. A group needs an option (``place=`` alone is refused); dashes
    (``--residents=2000``) are refused with the spelling that works.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException, OverrideParseException

    parser = OverridesParser.create()
    for item in overrides:
        if not isinstance(item, str) or "=" not in item.lstrip("~"):
            raise ConfigError(f"{item}: expected key=value")
        key = item.split("=", 1)[0]
        if not key.strip("+~"):
            raise ConfigError(f"{item}: expected key=value")
        if key.startswith("-"):
            raise ConfigError(f"{key}: options are key=value without dashes (try {item.lstrip('-')})")
        if key.startswith(("+", "~")):
            raise ConfigError(f"{key}: adding or deleting keys is not allowed; set an existing key with "
                              f"{key.lstrip('+~')}=value")
        try:
            override = parser.parse_override(item)
        except (OverrideParseException, HydraException, ValueError) as exc:
            raise ConfigError(f"{key}: cannot read {item!r} ({str(exc).splitlines()[0].strip()})") from None
        group = override.key_or_group
        if group in groups and (not isinstance(override.value(), str) or override.value() == ""):
            raise ConfigError(f"{group}: choose one option from {', '.join(options(group))} "
                              f"(got {item.split('=', 1)[1]!r})")


def compose_config(overrides: list[str], config_name: str = "config") -> Any:
    """Compose ``conf/<config_name>.yaml`` with command-line style ``overrides``; raise ConfigError."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    check_overrides(overrides)
    register_schema()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name=config_name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(explain_error(exc)) from None
    finally:
        GlobalHydra.instance().clear()


def check_settings(obj: Any, prefix: str = "") -> None:
    """Ranges and choices of a settings dataclass (the model's own keys are checked by sim.params.validate)."""
    from sim.params import check_fields

    try:
        check_fields(obj, prefix)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None


def to_params(cfg: Any) -> Config:
    """Convert a composed config to validated dataclasses; raise ConfigError naming the first bad key."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        params = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain_error(exc)) from None
    try:
        validate(params)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    for name in ("compare", "decompose", "calibration", "ensemble", "engine"):
        check_settings(getattr(params, name), f"{name}.")
    check_compare(params.compare)
    return params


def check_compare(settings: CompareConfig) -> None:
    known = options("scenario")
    for i, name in enumerate(settings.scenarios):
        if name not in known:
            raise ConfigError(f"compare.scenarios: unknown scenario {name!r} (choose from {', '.join(known)})")
        if name in settings.scenarios[:i]:
            raise ConfigError(f"compare.scenarios: {name!r} is listed twice")
    if not settings.scenarios:
        raise ConfigError("compare.scenarios: list at least one scenario")
    if settings.baseline not in settings.scenarios:
        raise ConfigError(f"compare.baseline: {settings.baseline!r} is not in compare.scenarios")
    try:
        check_name("compare.name", settings.name)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None


def load_config(overrides: list[str], config_name: str = "config") -> tuple[Any, Config]:
    """Compose and validate: the one door through which every entry point reads its configuration."""
    cfg = compose_config(overrides, config_name)
    return cfg, to_params(cfg)


def model_params(params: Config) -> Params:
    """The part of a Config the model reads (drops the run settings)."""
    fields = {f.name: getattr(params, f.name) for f in dataclasses.fields(Params)}
    return Params(**fields)


def model_overrides(overrides: list[str]) -> list[str]:
    """The overrides that change the model (drops run settings such as ``compare.*``, ``engine.*``, ``progress``)."""
    return [item for item in overrides if item.split("=", 1)[0].split(".")[0] not in RUN_SETTINGS]


def resolved_yaml(cfg: Any) -> str:
    """The whole composed configuration, resolved (a comparison's config.yaml)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(cfg, resolve=True, sort_keys=False)


def model_yaml(cfg: Any) -> str:
    """The model's resolved configuration (a run folder's config.yaml, a record's ``config``)."""
    from .runner import config_yaml

    return config_yaml(model_container(cfg))


def model_container(cfg: Any) -> dict:
    """The model's resolved configuration as plain containers (run settings dropped)."""
    from omegaconf import OmegaConf

    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    return {k: v for k, v in container.items() if k not in RUN_SETTINGS}


def container_hash(container: dict) -> str:
    """A short hash of a resolved model configuration (plain containers): same configuration, same hash."""
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    model = {k: v for k, v in container.items() if k not in RUN_SETTINGS}
    text = yaml.dump(model, default_flow_style=False, allow_unicode=True, sort_keys=True,
                     Dumper=get_omega_conf_dumper())
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def config_hash(cfg: Any) -> str:
    """A short hash of the model's resolved configuration (run settings excluded)."""
    return container_hash(model_container(cfg))


def quiet_libraries() -> None:
    """Mesa logs every step at INFO; keep the console for what a user needs."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    logging.getLogger("mesa").setLevel(logging.WARNING)
