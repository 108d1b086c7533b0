"""The robust comparison: every scenario in every plausible world of a calibrated ensemble (``experiments.compare
ensemble=<name>``; see that module's help). Planning and running here; statistics in
:mod:`experiments.stats.ensemble`; the report in :mod:`experiments.reporting.robust`."""

from __future__ import annotations

import math

from .engine.cli import relative
from .engine.config import ConfigError, load_config, model_overrides, resolved_yaml


def parse_worlds(ensemble) -> list[dict[str, float | int]]:
    """Each world's calibrated values, from its ``key=value`` overrides; raise ConfigError naming a bad one."""
    import yaml

    from .engine.ranges import ranges

    known = ranges()
    worlds, keys = [], None
    for i, world in enumerate(ensemble.worlds):
        where = f"ensemble.worlds[{i}].overrides"
        point = {}
        for item in world.overrides:
            key, sep, text = str(item).partition("=")
            if not sep or key not in known:
                raise ConfigError(f"{where}: {item!r} is not key=value for a key of conf/ranges.yaml")
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                value = None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{where}: {key} needs a finite number, got {text!r}")
            point[key] = value
        if keys is not None and set(point) != keys:
            raise ConfigError(f"{where}: sets other keys than world 0 ({', '.join(sorted(set(point) ^ keys))})")
        keys = set(point)
        worlds.append(point)
    return worlds


def compare_worlds(argv: list[str], cfg, config) -> int:
    from .engine.executors import check_engine
    from .engine.plan import check_reproducible, plan_runs
    from .engine.resources import check_memory
    from .engine.seeds import replicate_seeds
    from .engine.store import check_results_root, output_dir
    from .engine.study import claim, fingerprint, run_study, say_failed

    ensemble = config.ensemble
    if not ensemble.worlds:
        raise ConfigError("ensemble: has no worlds (run experiments.calibrate to make one)")
    worlds = parse_worlds(ensemble)
    user = model_overrides(argv)
    for item in user:
        key = item.split("=", 1)[0]
        if key in worlds[0]:
            raise ConfigError(f"{key}: set by every world of ensemble {ensemble.name!r} (it was calibrated); "
                              "compare without it, or calibrate again with it fixed")
    fixed = [*ensemble.fixed, *user]
    _, calibrated_config = load_config(list(ensemble.fixed))
    cfg, config_model = load_config([*fixed, *(a for a in argv if a.split("=", 1)[0].split(".")[0] in
                                               ("compare", "engine", "progress", "ensemble"))])
    if config_model.place.name != calibrated_config.place.name:
        raise ConfigError(f"place: ensemble {ensemble.name!r} was calibrated for {calibrated_config.place.name!r}; "
                          f"calibrate {config_model.place.name!r} first (experiments.calibrate "
                          f"place={config_model.place.name} calibration.name={config_model.place.name})")
    settings = config_model.compare
    seeds = replicate_seeds(settings.base_seed, ensemble.seeds_per_world)
    plan = plan_runs(fixed, settings.scenarios, worlds, seeds)
    check_reproducible(plan.specs[0])
    check_memory([spec.params for spec in plan.specs[:1]], config_model.engine, resident_agents=False)
    check_engine(config_model.engine)
    check_results_root()
    stamp = fingerprint(sorted(plan.hashes))
    folder = output_dir("compare", f"{settings.name}-{ensemble.name or 'ensemble'}-{stamp}")
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, "comparison", {"command_line": list(argv), "model_overrides": fixed, "ensemble": ensemble.name,
                                 "settings": resolved_yaml(cfg)}, stamp, name_key="compare.name")
    print(f"Comparing {', '.join(settings.scenarios)} on {config_model.place.name} across {len(worlds)} plausible "
          f"worlds of ensemble {ensemble.name!r}: {ensemble.seeds_per_world} seed(s) each, "
          f"{config_model.residents:,} residents, {config_model.burn_in_years} burn-in + {config_model.years} years")
    outcome = run_study(folder, plan, config_model.engine, config_model.progress, series=True, label="Comparison")
    if say_failed(outcome, folder):
        return 1
    write_robust(folder, cfg, config_model, worlds, argv, outcome.wall_seconds, plan)
    print(f"Done: {outcome.ok} ran, {outcome.skipped} reused, in {outcome.wall_seconds:.0f} s.")
    print(f"Report: {relative(folder / 'report.md')} (and report.html, self-contained)")
    return 0


def typical_world(differences, runs, settings) -> int:
    """The world whose wellbeing difference (first scenario against the baseline) is nearest the median over
    worlds: the one whose residents' journeys the report shows."""
    from .stats.ensemble import world_differences

    others = [s for s in settings.scenarios if s != settings.baseline]
    if not others:
        return int(runs["world"].min())
    per_world = world_differences(runs, others[0], settings.baseline, ["mean_wellbeing"])["mean_wellbeing"]
    return int((per_world - per_world.median()).abs().idxmin())


def write_robust(folder, cfg, config, worlds, argv, wall, plan) -> None:
    import pandas as pd

    from sim.place import real_population

    from .engine import store
    from .engine.executors import check_engine
    from .engine.runner import versions
    from .engine.study import labelled_series
    from .reporting.robust import write_report
    from .stats.ensemble import ensemble_differences, payback, summarise_ensemble, world_verdicts

    settings = config.compare
    runs = pd.read_parquet(folder / "table.parquet").rename(columns={"point": "world"})
    months = labelled_series(folder, runs, ("scenario", "world", "replicate"))
    summary = summarise_ensemble(runs, settings.scenarios, settings.confidence)
    verdicts = world_verdicts(runs, settings.scenarios, settings.baseline, settings.confidence)
    differences = ensemble_differences(runs, settings.scenarios, settings.baseline, settings.confidence,
                                       verdicts=verdicts)
    paybacks = {s: payback(months, s, settings.baseline) for s in settings.scenarios if s != settings.baseline}
    parameters = pd.DataFrame(worlds)
    typical = typical_world(differences, runs, settings)
    journey_params = {spec.labels["scenario"]: spec.params for spec in plan.specs
                      if spec.labels["point"] == typical and spec.labels["replicate"] == 0}

    def write(tmp):
        summary.to_csv(tmp / "summary.csv", index=False)
        differences.to_csv(tmp / "differences.csv", index=False)
        parameters.rename_axis("world").reset_index().to_csv(tmp / "worlds.csv", index=False)
        verdicts.to_csv(tmp / "differences_by_world.csv", index=False)
        months.to_parquet(tmp / "timeseries.parquet", index=False, engine="pyarrow", compression="zstd")
        (tmp / "config.yaml").write_text(resolved_yaml(cfg))
        write_report(tmp, config, runs, parameters, summary, differences, paybacks, real_population(config.place),
                     versions(), wall, check_engine(config.engine), argv, relative(folder / "table.parquet"),
                     (typical, journey_params), verdicts)

    store.write_into(folder, write)
