"""Observation (ODD 7.11): weekly indicators, monthly neighbourhood rows, the summary of a run.

Observation is read-only: every function here reads the model's state and returns numbers, and none writes to
the model or calls its private methods. Weekly indicators are counts and means taken as things happen (contacts
are classified at the moment they occur). :func:`summarise` computes exactly the outcomes registered in
:mod:`sim.outcomes`, each defined in docs/ODD.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .behaviours import BEHAVIOURS
from .outcomes import OUTCOMES
from .rules import learning, money, needs, ties
from .rules.arrays import row_sum
from .rules.failure import FAILURE_KINDS

if TYPE_CHECKING:
    from .model import PlaceModel

# Counts and sums accumulated during a week by the model's phases.
TALLY_KEYS = (
    "life_events", "crises", "contacts_value", "contacts_failure",
    *(f"failure_{k}" for k in FAILURE_KINDS),
    "triaged", "refusals", "bounces", "brief_help", "admissions", "wait_weeks_admitted", "signposts", "warm_handoffs",
    "lost_referrals", "closures", "closures_on_resolution", "early_closures",
    "spend_support", "spend_community", "spend_emergency", "provider_changes", "unmet_need", "staff_utilisation",
    "left_waiting_recovered", "adoptions", "slips_back", "left", "arrived", "spells_started",
)
# States read at the end of the week.
STATE_KEYS = (
    "mean_wellbeing", "multiple_disadvantage_share", "waiting", "in_support", "mean_resident_trust",
    "collaboration_density", "mean_tie_strength", "collaboration_clustering", "community_orgs_open",
    "mean_eligibility_threshold", "services_budget_left", "practice_knowledge", "code_knowledge",
    "adoption", "infrastructure_reformed", "hard_edges_2", "hard_edges_3", "in_emergency_spell", "entrenched",
    "newcomers", "persisting", "persisting_of",
)
# Hard Edges' three domains (Bramley, Fitzpatrick et al. 2015: homelessness, substance misuse, criminal justice),
# proxied by high need in housing, mental health and safety (ODD 7.11; ../shared/data/patterns.md).
HARD_EDGES_DOMAINS = ("housing", "mental_health", "safety")
BEHAVIOUR_KEYS = tuple(f"behaviour_{k}" for k in BEHAVIOURS)  # scored monthly, carried through the month
WEEKLY_COLUMNS = (*STATE_KEYS, *TALLY_KEYS, *BEHAVIOUR_KEYS)
MONTH_COUNTS = ("contacts_value", "contacts_failure", "refusals", "bounces", "signposts", "warm_handoffs",
                "lost_referrals", "closures", "closures_on_resolution")
NEIGHBOURHOOD_COLUMNS = (
    "residents", "deprivation", "deprivation_quintile", "mean_wellbeing", "unmet_need", "mean_resident_trust",
    "multiple_disadvantage_share", "crises",
)


class Tally(dict):
    """This week's counts, by name; an unknown name is an error rather than a silent new column."""

    def __init__(self) -> None:
        super().__init__(dict.fromkeys(TALLY_KEYS, 0))

    def reset(self) -> None:
        for key in self:
            self[key] = 0

    def __missing__(self, key: str):
        raise KeyError(f"unknown tally {key!r}")


def observe_week(model: PlaceModel) -> np.ndarray:
    """One row of WEEKLY_COLUMNS for the week just finished (reads the model, writes nothing)."""
    rel = model.params.relations
    s = model.n_services
    open_mask = model.providers.open
    working = (model.providers.ties >= rel.tie_threshold) & open_mask[:, None] & open_mask[None, :]
    state = {
        "mean_wellbeing": float(model.residents.wellbeing.mean()),
        "multiple_disadvantage_share": float(model.residents.multiple_disadvantage.mean()),
        "waiting": int((model.residents.wait_provider >= 0).sum()),
        "in_support": int((model.residents.case_provider >= 0).sum()),
        "mean_resident_trust": float(model.residents.trust.mean()),
        "collaboration_density": ties.collaboration_density(model.providers.ties, open_mask, rel.tie_threshold),
        "mean_tie_strength": ties.mean_tie_strength(model.providers.ties, open_mask),
        "collaboration_clustering": ties.clustering(working[np.ix_(open_mask, open_mask)]),
        "community_orgs_open": int(open_mask[s:].sum()),
        "mean_eligibility_threshold": float(model.providers.threshold[:s].mean()),
        "services_budget_left": float(model.providers.budget_remaining[:s].sum()),
        "practice_knowledge": float(model.providers.knowledge[open_mask].mean()),
        "code_knowledge": float(learning.knowledge(model.providers.code, model.reality)[open_mask].mean()),
        "adoption": float(model.practice.adopted[open_mask].mean()) if open_mask.any() else 0.0,
        "infrastructure_reformed": model.route.reformed_share(),
        **hard_edges(model),
        "in_emergency_spell": int((model.residents.spell_domain >= 0).sum()),
        "entrenched": float((model.residents.entrenchment >= 0.5).mean()),
        "newcomers": int((model.residents.arrived_week > model.burn_in_weeks).sum()),
        **model.persistence.this_week(model.steps),
    }
    return np.array([*(state[k] for k in STATE_KEYS), *(model.tally[k] for k in TALLY_KEYS),
                     *(model.behaviour_scores[k] for k in BEHAVIOURS)], dtype=float)


def hard_edges_count(model: PlaceModel) -> np.ndarray | None:
    """Per resident, in how many of Hard Edges' three domains the need is high (None if a domain is absent)."""
    if not set(HARD_EDGES_DOMAINS) <= set(model.domains):
        return None
    return needs.high_need_count(model.residents.need, model.params.relations.need_threshold,
                                 [model.domains.index(d) for d in HARD_EDGES_DOMAINS])


def hard_edges(model: PlaceModel) -> dict[str, float]:
    """Shares of residents with high need in 2+ and in all 3 of Hard Edges' domains (NaN if a domain is absent)."""
    count = hard_edges_count(model)
    if count is None:
        return {"hard_edges_2": float("nan"), "hard_edges_3": float("nan")}
    return {"hard_edges_2": float((count >= 2).mean()), "hard_edges_3": float((count >= 3).mean())}


class Persistence:
    """How lasting severe and multiple disadvantage is: at the end of each evaluated year, of the residents in high
    need in 2+ of Hard Edges' domains a year before who still live here (the same residents: a newcomer in a
    leaver's home is someone else), how many still are. Observation: it reads the model and keeps its own record.
    """

    def __init__(self) -> None:
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # rows and their arrival weeks, a year ago
        self.latest: tuple[int, int, int] = (-1, 0, 0)  # (week, still in 2+, of those in 2+ a year ago still here)

    def mark(self, model: PlaceModel) -> None:
        """At the end of a year: compare with a year ago, and remember who is in 2+ now."""
        count = hard_edges_count(model)
        if count is None:
            return
        arrived = model.residents.arrived_week
        if self.previous is not None:
            rows, stamp = self.previous
            here = arrived[rows] == stamp
            self.latest = (int(model.steps), int((count[rows[here]] >= 2).sum()), int(here.sum()))
        rows = np.flatnonzero(count >= 2)
        self.previous = (rows, arrived[rows].copy())

    def this_week(self, week: int) -> dict[str, int]:
        """The weekly columns ``persisting`` and ``persisting_of``: the year's counts in the week they were made."""
        marked, still, of = self.latest
        return {"persisting": still, "persisting_of": of} if marked == week else {"persisting": 0, "persisting_of": 0}


def month_counts(model: PlaceModel) -> dict[str, float]:
    """This week's tally plus the previous three weeks' rows, for the counts behaviours are scored from."""
    week = model.steps - 1
    earlier = model.weekly[max(week - 3, 0):week]
    index = {name: i for i, name in enumerate(WEEKLY_COLUMNS)}
    return {k: float(model.tally[k]) + float(earlier[:, index[k]].sum()) for k in MONTH_COUNTS}


def neighbourhood_month(model: PlaceModel) -> np.ndarray:
    """Rows of NEIGHBOURHOOD_COLUMNS, one per neighbourhood, at the end of a four-week month."""
    k = model.place.n_neighbourhoods
    counts = model.residents_per_neighbourhood.astype(float)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(model.residents.home, weights=values, minlength=k) / counts

    return np.column_stack([
        counts,
        model.place.overall_deprivation,
        model.place.deprivation_quintile(),
        mean(model.residents.wellbeing),
        mean(model.residents.unmet_by_resident),
        mean(row_sum(model.residents.trust) / model.residents.trust.shape[1]),
        mean(model.residents.multiple_disadvantage.astype(float)),
        model.crises_by_neighbourhood,
    ])


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def summarise(weekly: pd.DataFrame, neighbourhoods: pd.DataFrame, model: PlaceModel) -> dict[str, float]:
    """The outcomes of :mod:`sim.outcomes` over the evaluation period: the weeks after ``burn_in_years``."""
    ev = weekly[weekly["year"] >= 0]
    years = len(ev) / 52.0
    n = model.n_residents
    total = ev[["spend_support", "spend_community", "spend_emergency"]].sum()
    total_cost = float(total.sum()) / years if years else float("nan")
    contacts = ev["contacts_value"].sum() + ev["contacts_failure"].sum()
    mean_wellbeing = float(ev["mean_wellbeing"].mean())
    first_month = model.params.burn_in_years * 13
    nb = neighbourhoods[neighbourhoods["month"] > first_month]
    by_quintile = (
        nb.assign(weighted=nb["mean_wellbeing"] * nb["residents"])
        .groupby("deprivation_quintile")[["weighted", "residents"]].sum()
    )
    quintile_wellbeing = by_quintile["weighted"] / by_quintile["residents"]
    gap = float(quintile_wellbeing.iloc[0] - quintile_wellbeing.iloc[-1]) if len(quintile_wellbeing) > 1 else 0.0
    summary = {
        "mean_wellbeing": mean_wellbeing,
        "wellbeing_gap_deprived": gap,
        "unmet_need": float(ev["unmet_need"].mean()),
        "multiple_disadvantage_share": float(ev["multiple_disadvantage_share"].mean()),
        "crises_per_1000_per_year": _ratio(ev["crises"].sum() * 1000.0, n * years),
        "failure_demand_share": _ratio(ev["contacts_failure"].sum(), contacts),
        "refusal_rate": _ratio(ev["refusals"].sum(), ev["triaged"].sum()),
        "mean_wait_weeks": _ratio(ev["wait_weeks_admitted"].sum(), ev["admissions"].sum()),
        "lost_referral_share": _ratio(ev["lost_referrals"].sum(), ev["signposts"].sum() + ev["warm_handoffs"].sum()),
        "total_cost": total_cost,
        "prevention_share_of_spend": _ratio(total["spend_support"] + total["spend_community"], total.sum()),
        "cost_per_wellbeing_point": _ratio(total_cost / n, mean_wellbeing * 100.0),
        "mean_resident_trust": float(ev["mean_resident_trust"].mean()),
        "collaboration_density": float(ev["collaboration_density"].mean()),
        "mean_tie_strength": float(ev["mean_tie_strength"].mean()),
        "community_orgs_open": float(ev["community_orgs_open"].iloc[-1]) if len(ev) else float("nan"),
        "practice_knowledge": float(ev["practice_knowledge"].mean()),
        "contacts_per_1000_per_year": _ratio(contacts * 1000.0, n * years),
        "warm_handoff_share": _ratio(ev["warm_handoffs"].sum(), ev["signposts"].sum() + ev["warm_handoffs"].sum()),
        "bounces_per_1000_per_year": _ratio(ev["bounces"].sum() * 1000.0, n * years),
        "emergency_spells_per_1000_per_year": _ratio(ev["spells_started"].sum() * 1000.0, n * years),
        "in_emergency_spell_per_1000": _ratio(float(ev["in_emergency_spell"].mean()) * 1000.0, n),
        "population_turnover": _ratio(float(ev["left"].sum()), n * years),
        "newcomer_share": float(ev["newcomers"].iloc[-1]) / n if len(ev) else float("nan"),
        "hard_edges_persistence": _ratio(float(ev["persisting"].sum()), float(ev["persisting_of"].sum())),
    }
    summary.update(calibration_outcomes(ev, model))
    for kind in FAILURE_KINDS:
        summary[f"failure_{kind}_share"] = _ratio(ev[f"failure_{kind}"].sum(), contacts)
    for key in BEHAVIOUR_KEYS:
        summary[key] = float(ev[key].mean())
    return {name: summary[name] for name in OUTCOMES}


def trend(counts: np.ndarray) -> float:
    """Relative change from the first year to the last of a least-squares line through log(1 + yearly count):
    ``exp(slope * (years - 1)) - 1`` (NaN with fewer than two years)."""
    if len(counts) < 2:
        return float("nan")
    slope = np.polyfit(np.arange(len(counts), dtype=float), np.log1p(counts), 1)[0]
    return float(np.expm1(slope * (len(counts) - 1)))


def calibration_outcomes(ev: pd.DataFrame, model: PlaceModel) -> dict[str, float]:
    """Outcomes that observed patterns are stated in (../shared/data/patterns.md; ODD 7.11, Calibration).

    ``crisis_trend``: relative change in crises from the first to the last evaluated year, read off a log-linear
    fit through every year's count (:func:`trend`: two single years' counts are too noisy); ``budget_deviation``:
    the largest yearly departure of spend from the year's budget, as a share of it; ``prevention_spend_change_5y``
    and ``crisis_spend_change_5y``: relative change from evaluated year 0 to year 5 (NaN with fewer than six
    evaluated years); Hard Edges' proxy as the mean share with 2+ high needs of three and the 3-of-3 share
    relative to it.
    """
    world = model.params.uncertainty
    by_year = ev.groupby("year")[["crises", "spend_support", "spend_community", "spend_emergency"]].sum()
    spend = by_year[["spend_support", "spend_community", "spend_emergency"]].sum(axis=1)
    budget = np.array([money.annual_budget(world.budget_per_resident, model.n_residents, world.budget_change_per_year,
                                           int(year) + model.params.burn_in_years) for year in by_year.index])
    prevention = by_year["spend_support"] + by_year["spend_community"]

    def change(series: pd.Series, years: int) -> float:
        if years not in series.index or 0 not in series.index:
            return float("nan")
        return _ratio(float(series.loc[years] - series.loc[0]), float(series.loc[0]))

    two = float(ev["hard_edges_2"].mean())
    return {
        "crisis_trend": trend(by_year["crises"].to_numpy(dtype=float)),
        "budget_deviation": float(np.max(np.abs(spend.to_numpy() / budget - 1.0))) if len(by_year) else float("nan"),
        "prevention_spend_change_5y": change(prevention, 5),
        "crisis_spend_change_5y": change(by_year["spend_emergency"], 5),
        "hard_edges_share": two,
        "hard_edges_3_of_2": _ratio(float(ev["hard_edges_3"].mean()), two),
    }


# --- months: the weekly table in four-week blocks ------------------------------------------------------------------
# The weekly counts a month adds up; every other column (states, unmet need, staff utilisation, behaviour
# scores) is averaged over the month.
MONTH_SUMS = tuple(k for k in TALLY_KEYS if k not in ("unmet_need", "staff_utilisation"))


def monthly(weekly: pd.DataFrame) -> pd.DataFrame:
    """Four-week blocks of a run's weekly table: sums of counts, means of states, and two derived shares.

    ``t_years`` is the block's end in years since the burn-in ended (negative during the burn-in).
    """
    block = (weekly["week"] - 1) // 4
    sums = [c for c in weekly.columns if c in MONTH_SUMS]
    grouped = weekly.groupby(block)
    out = grouped[sums].sum()
    means = [c for c in weekly.columns if c not in sums and c not in ("week", "year")]
    out[means] = grouped[means].mean()
    burn_in_weeks = int((weekly["year"] < 0).sum())
    out["t_years"] = (grouped["week"].max() - burn_in_weeks) / 52.0
    contacts = out["contacts_value"] + out["contacts_failure"]
    spend = out["spend_support"] + out["spend_community"] + out["spend_emergency"]
    out["failure_demand_share"] = out["contacts_failure"] / contacts.where(contacts > 0)
    out["emergency_share_of_spend"] = out["spend_emergency"] / spend.where(spend > 0)
    return out.reset_index(drop=True)


def monthly_with_gap(weekly: pd.DataFrame, neighbourhoods: pd.DataFrame, residents: int) -> pd.DataFrame:
    """:func:`monthly` plus each month's wellbeing gap between the least and most deprived fifths of
    neighbourhoods (``wellbeing_gap``) and crises as a yearly rate per 1,000 residents (``crises_per_1000_year``)."""
    month = monthly(weekly)
    nb = neighbourhoods
    quintiles = (nb.assign(w=nb["mean_wellbeing"] * nb["residents"])
                 .groupby(["month", "deprivation_quintile"])[["w", "residents"]].sum())
    by_q = (quintiles["w"] / quintiles["residents"]).unstack()
    gap = (by_q.iloc[:, 0] - by_q.iloc[:, -1]).to_numpy()
    if len(gap) < len(month):
        gap = np.r_[gap, [np.nan] * (len(month) - len(gap))]
    month["wellbeing_gap"] = gap[: len(month)]
    month["crises_per_1000_year"] = month["crises"] * 13 * 1000.0 / residents
    return month
