"""Whole-system working decomposed: which parts of the reform buy what, and is the whole more than its parts?

    .venv/bin/python -m experiments.decompose                        # 128 points x 2 seeds (+ silo), ~4 minutes
    .venv/bin/python -m experiments.decompose residents=2000 years=3 decompose.n_seeds=2
    .venv/bin/python -m experiments.decompose decompose.n_seeds=10 engine.executor=submitit   # for a paper

Factors (``decompose.factors`` in conf/config.yaml): each component of the new way of working and each part of
infrastructure, either at its silo level (practice.new takes practice.usual's value; the part is never reformed) or
reformed, on top of ``decompose.scenario`` (the full reform; factors left out stay reformed). The design is a
two-level fractional factorial of resolution V (pyDOE3; 128 points for 11 factors), so every main effect and every
two-factor interaction is estimable; every point runs with the same replicate seeds (common random numbers), and
the silo scenario runs with them too, as a check on the silo corner. Runs go through the engine (parallel,
resumable, Dask or Slurm). Writes results/decomposition/<name>-<hash>/: effects.csv (term, outcome, effect, ci_low,
ci_high), design.csv, table.parquet (one row per run, with its overrides), a waterfall figure per outcome (silo to
the full reform: main effects, then interactions) and report.md.
"""

from __future__ import annotations

from .engine.cli import entry_point, help_requested, relative
from .engine.config import ConfigError, load_config, model_overrides


def factors_of(names: list[str], config) -> tuple[list[str], dict[str, tuple[str, object, object]]]:
    """Factor names, and for each its model key with the value at the silo level and at the reformed level.

    A factor is a component of practice (``sim.route.PRACTICE_COMPONENTS``: at its silo level ``practice.new``
    takes ``practice.usual``'s value for the component's lever) or a part of infrastructure (at its silo level
    never reformed; reformed in the year the decomposition's scenario reforms it). ``config`` is composed with that
    scenario, and gives each factor's two levels.
    """
    from sim.params import INFRASTRUCTURE_PARTS
    from sim.route import PRACTICE_COMPONENTS

    names = list(names)
    factors: dict[str, tuple[str, object, object]] = {}
    for name in names:
        if name in factors:
            raise ConfigError(f"decompose.factors: {name!r} is listed twice")
        if name in PRACTICE_COMPONENTS:
            lever = PRACTICE_COMPONENTS[name]
            silo, reformed = getattr(config.practice.usual, lever), getattr(config.practice.new, lever)
            if silo == reformed:
                raise ConfigError(f"decompose.factors: {name!r} is the same in practice.usual and practice.new "
                                  f"({lever}: {silo!r}), so it has nothing to decompose")
            factors[name] = (f"practice.new.{lever}", silo, reformed)
        elif name in INFRASTRUCTURE_PARTS:
            year = getattr(config.scenario.reform, name)
            if year is None:
                raise ConfigError(f"decompose.factors: scenario {config.scenario.name!r} never reforms {name!r}")
            factors[name] = (f"scenario.reform.{name}", None, year)
        else:
            raise ConfigError(f"decompose.factors: unknown factor {name!r} (choose from "
                              f"{', '.join([*PRACTICE_COMPONENTS, *INFRASTRUCTURE_PARTS])})")
    if not any(config.scenario.first_adopters) and config.scenario.p_leader_adoption == 0:
        raise ConfigError(f"decompose.scenario: {config.scenario.name!r} never works the new way; choose a scenario "
                          "that does (the full reform)")
    if len(names) < 2:
        raise ConfigError(f"decompose.factors: needs at least 2 factors, got {len(names)}")
    return names, factors


def check(config) -> None:
    from sim.outcomes import OUTCOMES

    from .engine.config import options

    settings = config.decompose
    if settings.scenario not in options("scenario"):
        raise ConfigError(f"decompose.scenario: unknown scenario {settings.scenario!r}")
    for outcome in settings.outcomes:
        if outcome not in OUTCOMES:
            raise ConfigError(f"decompose.outcomes: unknown outcome {outcome!r} (see sim/outcomes.py)")
    if not settings.outcomes:
        raise ConfigError("decompose.outcomes: list at least one outcome")
    if len(set(settings.outcomes)) < len(settings.outcomes):
        raise ConfigError("decompose.outcomes: an outcome is listed twice")


@entry_point
def main(argv: list[str]) -> int:
    from .engine.config import GROUPS

    if help_requested(argv, __doc__, tuple(g for g in GROUPS if g != "scenario")):  # decompose.scenario instead
        return 0
    import numpy as np

    from .engine.designs import fractional_factorial
    from .engine.executors import check_engine
    from .engine.plan import Plan, check_reproducible, plan_runs
    from .engine.resources import check_memory
    from .engine.seeds import replicate_seeds
    from .engine.store import check_results_root, output_dir
    from .engine.study import claim, fingerprint, run_study, say_failed

    hints = {"scenario": "decompose.scenario", "seed": "decompose.base_seed"}
    for item in argv:
        key = item.split("=", 1)[0]
        if key in hints:
            raise ConfigError(f"{key}: set by the decomposition; use {hints[key]}")
    _, config = load_config(argv)
    check(config)
    settings = config.decompose
    overrides = model_overrides(argv)
    _, reformed = load_config([*overrides, f"scenario={settings.scenario}"])
    names, factors = factors_of(settings.factors, reformed)
    design = (fractional_factorial(len(names)) + 1) / 2  # 0 = silo level, 1 = reformed
    terms = 1 + len(names) + len(names) * (len(names) - 1) // 2
    if design.shape[0] * settings.n_seeds <= terms:
        raise ConfigError(f"decompose.n_seeds: {settings.n_seeds} seed(s) of {design.shape[0]} design points leave "
                          f"no residual degrees of freedom for {terms} terms, so no intervals; use at least "
                          f"{terms // design.shape[0] + 1}")
    points = [{factors[n][0]: (factors[n][2] if level else factors[n][1]) for n, level in zip(names, row,
                                                                                            strict=True)}
              for row in design]
    seeds = replicate_seeds(settings.base_seed, settings.n_seeds)
    reform = plan_runs(overrides, [settings.scenario], points, seeds, labels={"arm": "design"})
    silo = plan_runs(overrides, ["silo"], [{}], seeds, labels={"arm": "silo"})
    check_reproducible(reform.specs[0])
    plan = Plan(reform.specs + silo.specs, reform.index + [{**row, "point": -1} for row in silo.index])
    check_memory([spec.params for spec in plan.specs], config.engine, resident_agents=False)
    check_engine(config.engine)
    check_results_root()
    stamp = fingerprint(sorted(plan.hashes))
    folder = output_dir("decomposition", f"{settings.name}-{stamp}")
    folder.mkdir(parents=True, exist_ok=True)
    claim(folder, "decomposition", {"command_line": list(argv), "model_overrides": overrides,
                                    "factors": {n: factors[n][0] for n in names}}, stamp,
          name_key="decompose.name")
    print(f"Decomposing {settings.scenario} into {len(names)} factors: {design.shape[0]} design points "
          f"(resolution V) x {settings.n_seeds} seeds, and silo as a check; {config.residents:,} residents, "
          f"{config.burn_in_years} burn-in + {config.years} years")
    outcome = run_study(folder, plan, config.engine, config.progress, label="Decomposition")
    if say_failed(outcome, folder):
        return 1
    from .reporting.decomposition import write_decomposition

    write_decomposition(folder, config, names, np.asarray(design), argv, outcome.wall_seconds)
    print(f"Done: {outcome.ok} ran, {outcome.skipped} reused, in {outcome.wall_seconds:.0f} s.")
    print(f"Report: {relative(folder / 'report.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
