"""One browser session's state, without any UI: the model, the controls in force, playback, kept runs, journeys.

The page (:mod:`experiments.explorer.app`) draws a :class:`Session`; everything a test needs to check about
playing, counting weeks, comparing runs and following residents is here, in plain Python.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from sim.indicators import WEEKLY_COLUMNS
from sim.journeys import RULES, choose_residents

from ..engine.ranges import field_of, plausible
from .model import OVERRIDE_KEYS, PLACES, SCENARIOS, ExplorerModel

WEEKS_PER_YEAR = 52
COLUMN = {name: i for i, name in enumerate(WEEKLY_COLUMNS)}
FOLLOWED_PER_RULE = 3  # residents followed from week 0 for each rule in sim.journeys.RULES
SPEEDS = {"5 weeks/s": 5.0, "10 weeks/s": 10.0, "20 weeks/s": 20.0, "40 weeks/s": 40.0, "100 weeks/s": 100.0,
          "as fast as possible": float("inf")}
DEFAULT_SPEED = "40 weeks/s"


@dataclass(frozen=True)
class Control:
    """One control on the page: a model keyword, its label, and its slider's range and step."""

    name: str
    label: str
    default: float | int | str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[str, ...] = ()
    reason: str = ""  # why the range is what it is (conf/ranges.yaml)
    admissible_high: float | None = None  # what the model admits beyond the plausible range (typed values)
    plausible_high: float | None = None  # the plausible range's top when the slider goes beyond it (stress tests)

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)


def uncertainty_control(name: str, label: str, steps: int = 20) -> Control:
    """A control over the uncertainty's plausible range in conf/ranges.yaml, starting at its default."""
    key = OVERRIDE_KEYS[name]
    span = plausible(key)
    f, default = field_of(key)
    step = float(f"{(span.high - span.low) / steps:.1g}")
    return Control(name, label, default, span.low, span.stress_high or span.high, step, reason=span.reason,
                   admissible_high=float(f.metadata["range"][1]), plausible_high=span.high)


CONTROLS = [
    Control("scenario_name", "Scenario", "silo", choices=tuple(SCENARIOS)),
    Control("place", "Place", "synthetic", choices=tuple(PLACES)),
    uncertainty_control("need_coupling", "Need coupling"),
    uncertainty_control("relationship_build_rate", "Relationship build rate"),
    uncertainty_control("coordination_cost", "Coordination cost"),
    uncertainty_control("trust_loss_gain_ratio", "Trust loss:gain ratio"),
    uncertainty_control("budget_per_resident", "Budget per resident (GBP/year)", 12),
    Control("residents", "Residents", 5000, 1000, 20000, 1000),
    Control("seed", "Seed", 0, 0, 99, 1),
]
CONTROL = {c.name: c for c in CONTROLS}


def defaults() -> dict:
    return {c.name: c.default for c in CONTROLS}


def describe(name: str, value) -> str:
    if name == "residents":
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass
class KeptRun:
    """A run kept for the Compare tab: its label, controls and weekly table up to the week it was kept at."""

    label: str
    values: dict
    weekly: np.ndarray
    n_residents: int
    burn_in_weeks: int
    n_weeks: int


@dataclass
class Session:
    """A browser session: its model, the control values in force (at the last Reset) and as set now."""

    values: dict = field(default_factory=defaults)  # as the controls show them now
    model: ExplorerModel | None = None
    in_force: dict = field(default_factory=dict)  # the values the model was built from
    kept: list[KeptRun] = field(default_factory=list)
    build: object = ExplorerModel  # replaced by tests with a smaller model

    def __post_init__(self) -> None:
        if self.model is None:
            self.reset()

    # --- the model -------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new model from the controls as set now, following residents chosen by each rule of sim.journeys at
        the end of the burn-in (found on a scratch copy: every scenario is the same place until then)."""
        model = self.build(**self.values)
        model.follow(burn_in_choice(self.build(**self.values)))
        self.model, self.in_force = model, dict(self.values)

    def changed(self) -> dict[str, tuple]:
        """Controls set differently from the values in force: name -> (in force, as set now)."""
        return {k: (self.in_force[k], v) for k, v in self.values.items() if self.in_force.get(k) != v}

    def from_default(self) -> dict[str, tuple]:
        """Values in force that differ from the defaults: name -> (default, in force)."""
        return {k: (CONTROL[k].default, v) for k, v in self.in_force.items() if CONTROL[k].default != v}

    @property
    def finished(self) -> bool:
        return self.model.steps >= self.model.n_weeks

    def advance(self, weeks: int) -> int:
        """Up to ``weeks`` more weeks, never past the horizon; returns how many ran."""
        model = self.model
        ran = 0
        while ran < weeks and model.steps < model.n_weeks:
            model.step()
            ran += 1
        return ran

    def year_end(self) -> int:
        """The week that ends the current year (or the next one, at a year's end), capped at the horizon."""
        week = self.model.steps
        return min((week // WEEKS_PER_YEAR + 1) * WEEKS_PER_YEAR, self.model.n_weeks)

    def play(self, goal: int, speed, keep_going, redraw, min_redraw_seconds: float = 0.25) -> float:
        """Step towards week ``goal`` at ``speed()`` weeks a second while ``keep_going()``; ``redraw()`` is called
        at most every ``min_redraw_seconds`` (longer when drawing is slow: never more than a third of the time
        goes to drawing), and at the end. Returns the simulated weeks per second achieved."""
        model = self.model
        goal = min(goal, model.n_weeks)
        first_week, first_time = model.steps, time.monotonic()
        start_week, t0, pace = model.steps, first_time, speed()
        last_draw, draw_seconds = t0, 0.0
        while model.steps < goal and keep_going() and self.model is model:
            now = time.monotonic()
            if speed() != pace:  # the speed control changed: keep pace from here
                start_week, t0, pace = model.steps, now, speed()
            speed_now = pace
            due = goal if np.isinf(speed_now) else min(goal, start_week + int((now - t0) * speed_now) + 1)
            if due <= model.steps:
                time.sleep(max(0.0, min(0.02, (model.steps + 1 - start_week) / speed_now - (now - t0))))
                continue
            budget = now + max(min_redraw_seconds, 2 * draw_seconds)
            while model.steps < due and time.monotonic() < budget:
                model.step()
            if time.monotonic() - last_draw >= max(min_redraw_seconds, 2 * draw_seconds):
                before = time.monotonic()
                redraw()
                last_draw = time.monotonic()
                draw_seconds = last_draw - before
        elapsed = time.monotonic() - first_time
        redraw()
        return (model.steps - first_week) / elapsed if elapsed > 0 else 0.0

    # --- counter ---------------------------------------------------------------------------------------------------
    def counter(self) -> str:
        """Week and year, as a student reads them: 'week 312 of 572 · year 5 of 10 (burn-in: year 0)'."""
        model = self.model
        week, n = model.steps, model.n_weeks
        burn = model.params.burn_in_years
        years = model.params.years
        if week == 0:
            when = "start: nothing has happened yet"
        else:
            year = (week - 1) // WEEKS_PER_YEAR + 1 - burn  # week 1-52 is burn-in year 0 when burn = 1
            when = f"burn-in year {year + burn} of {burn}" if year <= 0 else f"year {year} of {years}"
            if week % WEEKS_PER_YEAR == 0:
                when = f"end of {when}"
        return f"Week {week} of {n} · {when}"

    def status(self) -> str:
        if self.finished:
            return (f"Finished: all {self.model.n_weeks} weeks ({self.model.params.burn_in_years} burn-in + "
                    f"{self.model.params.years} years) have run. Keep it on the Compare tab, or change the "
                    f"controls and press Reset.")
        return ""

    # --- compare ---------------------------------------------------------------------------------------------------
    def keep(self) -> KeptRun:
        """Keep the current run (as far as it has run) for the Compare tab."""
        model = self.model
        differs = [f"{CONTROL[k].label.split(' (')[0].lower()} {describe(k, v)}" for k, (_, v)
                   in self.from_default().items() if k not in ("scenario_name", "place")]
        label = " · ".join([self.in_force["scenario_name"], self.in_force["place"], *differs])
        if not self.finished:
            label += f" (to week {model.steps})"
        run = KeptRun(label, dict(self.in_force), model.weekly[: model.steps].copy(), model.n_residents,
                      WEEKS_PER_YEAR * model.params.burn_in_years, model.n_weeks)
        self.kept.append(run)
        return run

    def current_run(self) -> KeptRun:
        model = self.model
        return KeptRun("now: " + " · ".join([self.in_force["scenario_name"], self.in_force["place"]]),
                       dict(self.in_force), model.weekly[: model.steps], model.n_residents,
                       WEEKS_PER_YEAR * model.params.burn_in_years, model.n_weeks)


def burn_in_choice(scratch: ExplorerModel, neighbourhood: int | None = None) -> np.ndarray:
    """Residents chosen by every rule (``FOLLOWED_PER_RULE`` each) from ``scratch`` run to the end of its burn-in."""
    while scratch.steps < WEEKS_PER_YEAR * scratch.params.burn_in_years:
        scratch.step()
    return np.concatenate([choose_residents(scratch, rule, FOLLOWED_PER_RULE, neighbourhood) for rule in RULES])


def replayed(session: Session, rows: np.ndarray) -> ExplorerModel:
    """A copy of the session's model run to the same week with residents ``rows`` followed from week 0.

    Following changes no result (sim/journeys.py), so the copy is the same run, with these residents' histories.
    """
    model = session.build(**session.in_force)
    model.follow(rows)
    while model.steps < session.model.steps:
        model.step()
    return model

