"""Calibrate to observed patterns by history matching, and keep the ensemble of plausible worlds.

    .venv/bin/python -m experiments.calibrate                        # conf/calibration/default.yaml, ~10-15 min
    .venv/bin/python -m experiments.calibrate calibration=smoke      # a quick version (about a minute)
    .venv/bin/python -m experiments.calibrate calibration.max_waves=5 engine.executor=submitit

The patterns of ``conf/calibration/<name>.yaml`` (each ``{name, outcome, scenario, uncertainty, low, high,
source}``) are matched in waves (experiments/stats/history_matching.py; Vernon, Goldstein & Bower 2010): each wave
simulates a space-filling design over the space of uncertainties not yet ruled out (their ranges from
conf/ranges.yaml), fits a Gaussian-process emulator per pattern, validates it on held-out runs, and rules out every
point whose implausibility exceeds 3 for any pattern whose emulator passed. Then points of what is left are
simulated, and those whose simulated outcomes land in every band are the plausible worlds. Every run goes through
the engine (parallel, resumable, Dask or Slurm: ``engine.*``): the same command resumes an interrupted calibration.
With ``drivers.enabled``, the same points are also run under ``drivers.scenario`` (paired seeds), and Sobol indices
of its difference from the baseline are computed on emulators over the plausible space (Oakley & O'Hagan 2004).

Writes results/calibration/<name>/: ensemble.parquet (one row per world: parameters, outcomes, seed and the
``overrides`` that re-run it with experiments.run), waves.parquet (every run of every wave), space.csv (the share
of the space ruled out per wave), diagnostics.csv (held-out validation of each emulator), constraints.csv
(which pattern constrains which parameter), drivers.csv, pairs.png, drivers.png and report.md; and, with
``calibration.write_ensemble``, conf/ensemble/<name>.yaml, which ``experiments.compare ensemble=<name>`` reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .engine.cli import entry_point, help_requested, relative
from .engine.config import CONF_DIR, ConfigError, load_config, model_overrides, options


@dataclass(frozen=True)
class Setting:
    """Where a pattern is observed: a route and an uncertainty file."""

    scenario: str
    uncertainty: str

    @property
    def label(self) -> str:
        return f"{self.scenario}@{self.uncertainty}"

    @property
    def overrides(self) -> list[str]:
        return [f"uncertainty={self.uncertainty}"]


BASELINE_SETTING = Setting("silo", "baseline")


def check_calibration(settings, fixed: list[str]):
    """The space, the targets (required patterns), the checks (patterns only reported) and the settings of a
    calibration; raise ConfigError naming the first bad key."""
    from sim.outcomes import OUTCOMES
    from sim.params import ParamError, check_name

    from .engine.ranges import plausible, ranges
    from .stats.history_matching import Space, Target

    if not settings.patterns:
        raise ConfigError("calibration.patterns: list at least one pattern")
    names = settings.parameters or [k for k in ranges() if k not in settings.exclude]
    for i, key in enumerate(names):
        plausible(key)  # names a key without a range
        if key in names[:i]:
            raise ConfigError(f"calibration.parameters: {key!r} is listed twice")
    for item in fixed:
        if item.split("=", 1)[0] in names:
            raise ConfigError(f"{item.split('=', 1)[0]}: calibrated, so it cannot also be fixed (leave it out of "
                              "calibration.parameters or of the overrides)")
    targets, checks, seen = [], [], set()
    settings_used: dict[str, Setting] = {}
    for i, p in enumerate(settings.patterns):
        key = f"calibration.patterns[{i}]"
        try:
            check_name(f"{key}.name", p.name)
        except ParamError as exc:
            raise ConfigError(str(exc)) from None
        if p.name in seen:
            raise ConfigError(f"{key}.name: {p.name!r} is used twice")
        seen.add(p.name)
        if p.outcome not in OUTCOMES:
            raise ConfigError(f"{key}.outcome: unknown outcome {p.outcome!r} (a key of summary.json)")
        if p.scenario not in options("scenario"):
            raise ConfigError(f"{key}.scenario: unknown scenario {p.scenario!r} (choose from "
                              f"{', '.join(options('scenario'))})")
        if p.uncertainty not in options("uncertainty"):
            raise ConfigError(f"{key}.uncertainty: unknown option {p.uncertainty!r} (choose from "
                              f"{', '.join(options('uncertainty'))})")
        if not (np.isfinite(p.low) and np.isfinite(p.high) and p.low < p.high):
            raise ConfigError(f"{key}: needs finite low < high, got [{p.low}, {p.high}]")
        setting = Setting(p.scenario, p.uncertainty)
        settings_used[setting.label] = setting
        if p.log_offset is not None and not (np.isfinite(p.log_offset) and p.low + p.log_offset > 0):
            raise ConfigError(f"{key}.log_offset: must be finite with low + log_offset > 0, got {p.log_offset}")
        if not (np.isfinite(p.discrepancy) and p.discrepancy >= 0):
            raise ConfigError(f"{key}.discrepancy: must be a finite number >= 0, got {p.discrepancy}")
        target = Target(p.name, f"{setting.label}:{p.outcome}", float(p.low), float(p.high), float(p.discrepancy),
                        None if p.log_offset is None else float(p.log_offset))
        (targets if p.required else checks).append(target)
    _check_settings_leave_parameters(list(settings_used.values()), names)
    drivers = settings.drivers
    if drivers.enabled:
        for key, value in (("scenario", drivers.scenario), ("baseline", drivers.baseline)):
            if value not in options("scenario"):
                raise ConfigError(f"calibration.drivers.{key}: unknown scenario {value!r}")
        for outcome in drivers.outcomes:
            if outcome not in OUTCOMES:
                raise ConfigError(f"calibration.drivers.outcomes: unknown outcome {outcome!r}")
        settings_used.setdefault(f"{drivers.baseline}@baseline", Setting(drivers.baseline, "baseline"))
    if not targets:
        raise ConfigError("calibration.patterns: at least one pattern must be required (required: true)")
    if settings.validation_folds < 2:
        raise ConfigError(f"calibration.validation_folds: at least 2 folds are needed to hold runs out, got "
                          f"{settings.validation_folds}")
    if settings.wave_size < len(names) + 3:
        raise ConfigError(f"calibration.wave_size: {settings.wave_size} points cannot emulate {len(names)} "
                          f"uncertainties (at least {len(names) + 3})")
    space = Space.of({key: (plausible(key).low, plausible(key).high) for key in names})
    return space, targets, checks, settings_used


def _check_settings_leave_parameters(settings: list[Setting], names: list[str]) -> None:
    """An uncertainty file a pattern is observed under must not set a calibrated parameter (it would be
    overwritten by the design, and the pattern would not be observed under that file any more)."""
    import yaml

    for setting in settings:
        if setting.uncertainty == "baseline":
            continue
        text = yaml.safe_load((CONF_DIR / "uncertainty" / f"{setting.uncertainty}.yaml").read_text()) or {}
        for key in text:
            if key != "defaults" and f"uncertainty.{key}" in names:
                raise ConfigError(f"calibration.parameters: uncertainty.{key} is set by uncertainty="
                                  f"{setting.uncertainty}, under which a pattern is observed; add it to "
                                  "calibration.exclude")


def point_of(space, unit_row: np.ndarray) -> dict[str, float | int]:
    """A design point's model values from its unit coordinates (integers rounded, floats to 6 significant
    digits so that overrides stay readable and hashes stable)."""
    from .engine.ranges import plausible

    values = space.from_unit(unit_row)
    point = {}
    for key, value in zip(space.names, values, strict=True):
        point[key] = int(np.rint(value)) if plausible(key).integer else float(f"{value:.6g}")
    return point


def run_seed(base_seed: int, wave: int, row: int, replicate: int) -> int:
    return int(np.random.SeedSequence([base_seed, wave, row, replicate]).generate_state(1, dtype=np.uint32)[0])


class Simulator:
    """The place model on the engine, as history matching sees it: unit design rows in, pattern outputs out."""

    def __init__(self, folder, settings, fixed, space, targets, setting_of, engine, progress):
        self.folder, self.settings, self.fixed = folder, settings, fixed
        self.space, self.targets, self.setting_of = space, targets, setting_of
        self.engine, self.progress = engine, progress
        self.tables = {}

    def runs(self, study: str, design: np.ndarray, replicate: np.ndarray, settings: list[Setting], wave: int,
             rows=None, say=print):
        """Simulate every row under every setting (one seed per row, shared by the settings); the table. ``rows``:
        each row's number in the whole design (its seed and its ``point``; 0, 1, ... if not given), so that a
        study simulated in parts draws the seeds it would draw whole."""
        from .engine.plan import Plan, plan_runs
        from .engine.study import run_study

        rows = list(range(len(design))) if rows is None else [int(i) for i in rows]
        points = [point_of(self.space, row) for row in design]
        seeds = [[run_seed(self.settings.base_seed, wave, i, int(r))] for i, r in zip(rows, replicate, strict=True)]
        specs, index = {}, []
        for setting in settings:
            plan = plan_runs([*self.fixed, *setting.overrides], [setting.scenario], points, [0],
                             labels={"setting": setting.label}, point_seeds=seeds)
            specs.update({s.run_hash: s for s in plan.specs})
            index += plan.index
        outcome = run_study(self.folder / study, Plan(list(specs.values()), index), self.engine, self.progress,
                            label=study, say=say)
        if outcome.error:
            raise ConfigError(f"{outcome.error} run(s) of {study} failed (their traceback is in the `error` column "
                              f"of {relative(self.folder / study / 'table.parquet')}); run the same command again "
                              "to retry them")
        import pandas as pd

        table = pd.read_parquet(self.folder / study / "table.parquet")
        table["point"] = np.asarray(rows)[table["point"].to_numpy(dtype=int)]
        self.tables[study] = table
        return table

    def outputs(self, table, n: int, targets=None):
        """One row per design point 0 .. n-1, one column per target output (``<setting>:<outcome>``)."""
        return self.outputs_by_point(table, targets or self.targets).reindex(range(n))

    def outputs_by_point(self, table, targets):
        """One row per point simulated in ``table`` (indexed by ``point``), one column per target output."""
        import pandas as pd

        columns = {}
        for t in targets:
            setting, outcome = t.output.split(":", 1)
            rows = table[table["setting"] == setting]
            columns[t.output] = pd.Series(rows[outcome].to_numpy(dtype=float), index=rows["point"].to_numpy())
        return pd.DataFrame(columns)

    def __call__(self, wave: int, design: np.ndarray, replicate: np.ndarray):
        study = f"wave-{wave}" + ("-seeds" if replicate.any() else "")
        table = self.runs(study, design, replicate, list(self.setting_of.values()), wave)
        return self.outputs(table, len(design))


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__):
        return 0
    from .engine.executors import check_engine
    from .engine.plan import check_reproducible, plan_runs
    from .engine.store import check_results_root, output_dir
    from .engine.study import claim, fingerprint
    from .stats import history_matching as hm

    cfg, config = load_config(argv)
    settings = config.calibration
    fixed = [*settings.overrides, *model_overrides(argv)]
    _, model_config = load_config(fixed)  # the calibration's own overrides are checked like the command line's
    space, targets, checks, setting_of = check_calibration(settings, fixed)
    pattern_settings = {t.output.split(":", 1)[0] for t in targets}
    check_reproducible(plan_runs(fixed, ["silo"], [point_of(space, np.full(space.dim, 0.5))], [0]).specs[0])
    check_engine(config.engine)
    check_results_root()
    folder = output_dir("calibration", settings.name)
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, "calibration", {"command_line": list(argv), "model_overrides": fixed},
          fingerprint(fixed), name_key="calibration.name")
    print(f"Calibrating {len(space.names)} uncertainties to {len(targets)} patterns on {model_config.place.name} "
          f"({', '.join(fixed) or 'defaults'}): up to {settings.max_waves} waves of {settings.wave_size} points")
    start = time.perf_counter()
    simulator = Simulator(folder, settings, fixed, space, targets,
                          {k: v for k, v in setting_of.items() if k in pattern_settings}, config.engine,
                          config.progress)
    match = hm.history_match(space, targets, simulator, wave_size=settings.wave_size, max_waves=settings.max_waves,
                             seed=settings.base_seed % 2**32, replicate_points=settings.replicate_points,
                             replicates=settings.replicates, min_shrink=settings.min_shrink,
                             validation_folds=settings.validation_folds, say=print)
    print(f"Stopped: {match.stopped_because}")
    accepted = candidates = drivers = None
    if len(match.nroy):
        rng = np.random.default_rng([settings.base_seed % 2**32, 99])
        pool = candidate_pool(match, settings, rng)
        pick = np.round(hm.maximin_subset(pool, settings.candidates, rng), 6)  # as every design is rounded
        if settings.candidate_ranking == "fit":
            print(f"Candidates: {settings.candidates} spread among the {len(pool)} non-implausible points most likely "
                  f"to fit, as classifiers on the waves' runs rank them")
        candidates, pick = accept(simulator, match, pick, settings, list(setting_of.values()), targets, checks,
                                  fixed)
        table = simulator.tables["accept"]
        accepted = choose_worlds(candidates, space, settings.ensemble_size, rng)
        print(f"Plausible worlds: {int(candidates['inside_all'].sum())} of {len(candidates)} simulated points land in "
              f"every band (mean over {settings.acceptance_seeds} seed(s)); {len(accepted)} kept")
        if settings.drivers.enabled:
            drivers = drivers_of(simulator, table, pick, match, settings.drivers)
    wall = time.perf_counter() - start
    write_calibration(folder, cfg, config, argv, fixed, match, simulator, candidates, accepted, drivers, wall,
                      checks)
    if accepted is None or accepted.empty:
        print("No plausible world: see the report for the patterns in conflict (no ensemble written).")
        print(f"Report: {relative(folder / 'report.md')}")
        return 1
    if settings.write_ensemble:
        path = write_ensemble_config(settings, accepted, fixed, argv)
        print(f"Ensemble: {relative(path)} ({len(accepted)} worlds); compare with "
              f"`.venv/bin/python -m experiments.compare ensemble={settings.name}`")
    print(f"Done in {wall:.0f} s. Report: {relative(folder / 'report.md')}")
    return 0


def candidate_pool(match, settings, rng) -> np.ndarray:
    """Where the candidates are drawn from: the core of the non-implausible space (every implausibility below
    ``candidate_cutoff``), or all of it if the core holds too few points for a spread-out choice; with
    ``candidate_ranking: fit``, a larger sample of it narrowed to the 5 x ``candidates`` points most likely to land
    in every band (:func:`history_matching.fit_probability`)."""
    from .stats import history_matching as hm

    ranked = settings.candidate_ranking == "fit"
    pool = match.nroy
    if settings.candidate_cutoff < hm.CUTOFF:
        core, _ = hm.sample_nroy(match.waves, match.targets, match.space.dim, (50 if ranked else 10) *
                                 settings.candidates, rng, cutoff=settings.candidate_cutoff)
        if len(core) >= 2 * settings.candidates:
            pool = core
    if ranked:  # the most likely to fit first (a ranking; acceptance simulates them): 5 x candidates to spread over
        chance = hm.fit_probability(match.records, match.targets, pool, seed=settings.base_seed % 2**32)
        pool = pool[np.sort(np.argsort(-chance, kind="stable")[:5 * settings.candidates])]
    return pool


def accept(simulator, match, pick, settings, setting_list, targets, checks, fixed):
    """Which candidates fit every band on the mean of ``acceptance_seeds`` seeds, simulated in batches of
    ``acceptance_batch`` in the order they were picked (a greedy maximin order: every batch so far is spread over
    the space): each batch first on one seed; only the candidates whose one seed is within ``acceptance_screen``
    seed standard deviations of every band (:func:`history_matching.within_reach`) on the other seeds. Stops
    after the batch in which ``ensemble_size`` candidates fit. The candidate table and the candidates simulated."""
    from .stats import history_matching as hm

    n, seeds = len(pick), settings.acceptance_seeds
    quiet = lambda text: None  # noqa: E731 - one line per batch instead of one per study
    further: list[int] = []  # candidates simulated on every seed
    end = 0
    while end < n:
        start, end = end, min(n, end + settings.acceptance_batch)
        first = simulator.runs("accept", pick[:end], np.zeros(end, int), setting_list, 0, say=quiet)
        new = np.arange(start, end)
        if seeds > 1 and settings.acceptance_screen > 0:
            outputs = simulator.outputs_by_point(first, targets).reindex(new)
            go_on = hm.within_reach(match.waves, targets, pick[new], outputs, settings.acceptance_screen)
        else:
            go_on = np.ones(len(new), bool)
        further += [int(i) for i in new[go_on]]
        tables = [first, *(simulator.runs(f"accept-seed{r}", pick[further], np.full(len(further), r), setting_list,
                                          0, rows=further, say=quiet) for r in range(1, seeds) if further)]
        candidates = candidate_table(simulator, tables, pick[:end], targets, checks, fixed)
        fits = int(candidates["inside_all"].sum())
        print(f"accept: {end} of {n} candidates simulated"
              + (f", {len(further)} within reach of every band on their first seed and run on {seeds - 1} more"
                 if seeds > 1 else "") + f"; {fits} fit every band")
        if fits >= settings.ensemble_size:
            break
    return candidates, pick[:end]


def candidate_table(simulator, tables, pick, targets, checks, fixed):
    """One row per simulated non-implausible point: parameters, pattern outputs (checks too) as the mean over the
    acceptance seeds it was simulated on (a world's outcome is its expectation; one seed is a noisy estimate of
    it), inside each band, inside every required band (``inside_all``); ``seed`` (the first) and ``seeds`` (all
    it was run on: fewer than ``acceptance_seeds`` where its first seed was out of reach) to re-run it."""
    import pandas as pd

    n, table = len(pick), tables[0]
    outputs = [simulator.outputs_by_point(t, [*targets, *checks]).reindex(range(n)) for t in tables]
    present = [np.isin(np.arange(n), t["point"].to_numpy(dtype=int)) for t in tables]
    count = np.sum(present, axis=0)
    out = sum(np.where(p[:, None], o.to_numpy(dtype=float), 0.0) for o, p in zip(outputs, present, strict=True))
    out = pd.DataFrame(out / count[:, None], columns=outputs[0].columns)
    params = pd.DataFrame([point_of(simulator.space, row) for row in pick])
    base_label = BASELINE_SETTING.label if BASELINE_SETTING.label in set(table["setting"]) \
        else table["setting"].iloc[0]
    seed_of = [t[t["setting"] == base_label].set_index("point")["seed"] for t in tables]
    frame = params.copy()
    for t in [*targets, *checks]:
        frame[t.name] = out[t.output].to_numpy()
        frame[f"{t.name}:inside"] = t.inside(frame[t.name])
    frame["inside_all"] = frame[[f"{t.name}:inside" for t in targets]].all(axis=1)
    frame["seeds"] = [[int(s[i]) for s in seed_of if i in s.index] for i in range(n)]
    frame["seed"] = [seeds[0] for seeds in frame["seeds"]]
    frame["world_overrides"] = [[f"{k}={_plain(v)}" for k, v in point.items()]
                                for point in params.to_dict("records")]
    frame["overrides"] = [[*fixed, *w, f"seed={s}"] for w, s in zip(frame["world_overrides"], frame["seed"],
                                                                     strict=True)]
    frame.insert(0, "point", range(len(frame)))
    return frame


def simulated_points(simulator, targets):
    """Every simulated point of every study so far (waves, their extra seeds, acceptance), one row per point, one
    column per pattern (NaN where a study did not simulate that pattern's setting): what the simulator itself says
    about which patterns can be met together."""
    import pandas as pd

    frames = []
    for study, table in simulator.tables.items():
        columns = {}
        for t in targets:
            setting, outcome = t.output.split(":", 1)
            rows = table[table["setting"] == setting].sort_values("point")
            if len(rows):
                columns[t.name] = rows[outcome].to_numpy(dtype=float)
        if columns:
            n = max(len(v) for v in columns.values())
            frames.append(pd.DataFrame({k: v for k, v in columns.items() if len(v) == n}).assign(study=study))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _plain(value) -> str:
    from .engine.plan import format_value

    return format_value(value.item() if hasattr(value, "item") else value)


def choose_worlds(candidates, space, size: int, rng):
    """The worlds that fit every band, at most ``size`` of them spread out over the space (maximin)."""
    from .stats.history_matching import maximin_indices

    fit = candidates[candidates["inside_all"]].reset_index(drop=True)
    if len(fit) > size:
        unit = space.to_unit(fit[list(space.names)].to_numpy(dtype=float))
        fit = fit.iloc[sorted(maximin_indices(unit, size, rng))].reset_index(drop=True)
    fit.insert(0, "world", range(len(fit)))
    return fit


def drivers_of(simulator, table, pick, match, drivers):
    """Sobol indices of (scenario - baseline) per outcome, on emulators over the plausible space's box."""
    from .stats.drivers import sobol_of_difference

    setting_base = f"{drivers.baseline}@baseline"
    runs = simulator.runs("drivers", pick, np.zeros(len(pick), int),
                          [Setting(drivers.scenario, "baseline")], 0)
    base = table[table["setting"] == setting_base].sort_values("point")
    new = runs.sort_values("point")
    differences = {o: new[o].to_numpy(dtype=float) - base[o].to_numpy(dtype=float) for o in drivers.outcomes}
    return sobol_of_difference(simulator.space, pick, differences, match.nroy, drivers.samples,
                               seed=simulator.settings.base_seed % 2**32)


def pattern_notes(settings, accepted) -> list[str]:
    """One line per pattern: required (every world meets it) or a check, and how many worlds meet it."""
    lines = []
    for p in settings.patterns:
        met = int(accepted[f"{p.name}:inside"].sum())
        role = "required" if p.required else "check (not required)"
        lines.append(f"{p.name}: {role}, {p.outcome} in [{p.low:g}, {p.high:g}] under {p.scenario}, uncertainty="
                     f"{p.uncertainty}; met by {met} of {len(accepted)} worlds")
    return lines


def write_ensemble_config(settings, accepted, fixed, argv):
    """conf/ensemble/<name>.yaml: the worlds as configuration, with their provenance."""
    import shlex

    import yaml

    from .engine import store

    document = {
        "name": settings.name,
        "calibration": settings.name,
        "made_with": shlex.join([".venv/bin/python", "-m", "experiments.calibrate", *argv]),
        "fixed": list(fixed),
        "seeds_per_world": int(settings.seeds_per_world),
        "notes": pattern_notes(settings, accepted),
        "worlds": [{"id": int(row.world), "overrides": list(row.world_overrides)} for row in accepted.itertuples()],
    }
    header = (f"# Plausible worlds of the {settings.name!r} calibration: {len(accepted)} points of the uncertainty "
              "space whose simulated outcomes\n# (mean over the acceptance seeds) land in every required band of "
              f"conf/calibration/{settings.name}.yaml; `notes`\n# says which patterns each world meets. Written by "
              "experiments.calibrate; configuration, committed like any other.\n"
              f"#   .venv/bin/python -m experiments.compare ensemble={settings.name}\n")
    path = CONF_DIR / "ensemble" / f"{settings.name}.yaml"
    store.write_text(path, header + yaml.safe_dump(document, sort_keys=False, width=1000))
    return path


def write_calibration(folder, cfg, config, argv, fixed, match, simulator, candidates, accepted, drivers, wall,
                      checks):
    from .engine import store
    from .engine.config import resolved_yaml
    from .reporting.calibration import write_report

    def write(tmp):
        (tmp / "config.yaml").write_text(resolved_yaml(cfg))
        write_report(tmp, config.calibration, argv, fixed, match, candidates, accepted, drivers, wall,
                     relative(folder), lambda row: point_of(match.space, row),
                     simulated_points(simulator, [*match.targets, *checks]))

    store.write_into(folder, write)


if __name__ == "__main__":
    raise SystemExit(main())
