"""The outcomes (M, in XLRM): every headline outcome of a run, with its label, unit and better direction.

This registry is the one list of outcomes. :func:`sim.indicators.summarise` computes exactly these keys;
``experiments.run`` prints the headline ones, the comparison report tabulates the reported ones in this order,
sensitivity analysis and the explorer take their names and labels from here, and the tests check the summary
against it. Each outcome is defined in docs/ODD.md (7.11); the system behaviours (7.14) are outcomes too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .behaviours import BEHAVIOURS
from .rules.failure import FAILURE_KINDS

HIGHER, LOWER, NEITHER = "higher", "lower", "neither"


@dataclass(frozen=True)
class Outcome:
    name: str  # the key in summary.json and the column in every table
    label: str  # plain words for a policy reader
    unit: str  # what a number means ("0-1", "weeks", "GBP a year", "share of contacts", ...)
    better: str  # which direction is better: higher | lower | neither
    fmt: str  # format spec for one value, e.g. ".3f"
    headline: bool = False  # printed by experiments.run; the default outcomes of a sensitivity analysis
    reported: bool = True  # a row of the comparison report's headline table

    @property
    def title(self) -> str:
        """Label with its unit, for a table row or an axis."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def format(self, value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return "n/a"
        return format(value, self.fmt)


def _o(*args, **kwargs) -> Outcome:
    return Outcome(*args, **kwargs)


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    _o("mean_wellbeing", "Mean wellbeing", "0-1", HIGHER, ".4f", headline=True),
    _o("wellbeing_gap_deprived", "Wellbeing gap, least minus most deprived fifth of neighbourhoods", "0-1", LOWER,
       ".4f"),
    _o("unmet_need", "Unmet need per resident", "need above the coupling floor not being addressed", LOWER, ".4f"),
    _o("multiple_disadvantage_share", "Residents with 3+ high needs at once", "share of residents", LOWER, ".4f"),
    _o("crises_per_1000_per_year", "Crises", "per 1,000 residents a year", LOWER, ".1f", headline=True),
    _o("failure_demand_share", "Failure demand", "share of all contacts", LOWER, ".3f", headline=True),
    _o("refusal_rate", "Refusals", "share of contacts assessed by services", LOWER, ".3f"),
    _o("mean_wait_weeks", "Mean wait before support starts", "weeks", LOWER, ".1f", headline=True),
    _o("lost_referral_share", "Referrals lost (signposts never acted on)", "share of referrals", LOWER, ".3f"),
    _o("total_cost", "Total spend", "GBP a year", LOWER, ",.0f", headline=True),
    _o("prevention_share_of_spend", "Spend on support rather than crisis response", "share of spend", HIGHER, ".3f"),
    _o("cost_per_wellbeing_point", "Cost per wellbeing point", "GBP per resident-year per point", LOWER, ".3f"),
    _o("mean_resident_trust", "Residents' mean trust in providers", "0-1", HIGHER, ".4f", headline=True),
    _o("collaboration_density", "Provider pairs with a working relationship", "share of pairs", HIGHER, ".3f",
       headline=True),
    _o("mean_tie_strength", "Mean tie strength between providers", "0-1", HIGHER, ".3f"),
    _o("community_orgs_open", "Community organisations open at the end", "count", HIGHER, ".1f"),
    _o("practice_knowledge", "Providers' practice knowledge of what helps", "0.5 = chance, 1 = all", HIGHER, ".3f"),
    _o("contacts_per_1000_per_year", "Contacts", "per 1,000 residents a year", NEITHER, ",.0f", reported=False),
    _o("warm_handoff_share", "Referrals made as warm hand-offs", "share of referrals", HIGHER, ".3f", reported=False),
    _o("bounces_per_1000_per_year", "Bounces from wrong doors", "per 1,000 residents a year", LOWER, ".1f",
       reported=False),
    _o("emergency_spells_per_1000_per_year", "Emergency spells begun (e.g. temporary accommodation)",
       "per 1,000 residents a year", LOWER, ".2f"),
    _o("in_emergency_spell_per_1000", "Residents in an emergency spell at any time", "per 1,000 residents", LOWER,
       ".2f"),
    # who lives here (ODD 7.18, 7.19)
    _o("population_turnover", "Residents who leave the place", "share of residents a year", NEITHER, ".3f",
       reported=False),
    _o("newcomer_share", "Residents at the end who arrived during the evaluation", "share of residents", NEITHER,
       ".3f", reported=False),
    _o("hard_edges_persistence", "Of residents in high need in 2+ of housing, mental health, safety, still so a "
       "year later", "share of those still resident", LOWER, ".3f", reported=False),
    # outcomes that observed patterns are stated in (conf/calibration/; ODD 7.11)
    _o("crisis_trend", "Change in crises, first to last evaluated year", "share of the first year", LOWER, "+.2f",
       reported=False),
    _o("budget_deviation", "Largest yearly gap between spend and budget", "share of the budget", LOWER, ".3f",
       reported=False),
    _o("prevention_spend_change_5y", "Change in spend on support over five years", "share of year 0", HIGHER,
       "+.2f", reported=False),
    _o("crisis_spend_change_5y", "Change in spend on crises over five years", "share of year 0", LOWER, "+.2f",
       reported=False),
    _o("hard_edges_share", "Residents in severe and multiple disadvantage (high need in 2+ of housing, mental "
       "health, safety)", "share of residents", LOWER, ".4f"),
    _o("hard_edges_3_of_2", "Of those, high need in all three", "share of the 2+ group", NEITHER, ".3f",
       reported=False),
    *(_o(f"failure_{kind}_share", f"Failure demand: {kind.replace('_', ' ')}", "share of all contacts", LOWER, ".3f",
         reported=False) for kind in FAILURE_KINDS),
    *(_o(f"behaviour_{key}", wording, "score 0-10", HIGHER, ".1f", reported=False)
      for key, wording in BEHAVIOURS.items()),
)}

HEADLINE = [name for name, o in OUTCOMES.items() if o.headline]
REPORTED = [name for name, o in OUTCOMES.items() if o.reported]
BEHAVIOUR_OUTCOMES = [f"behaviour_{key}" for key in BEHAVIOURS]


def outcome(name: str) -> Outcome:
    """The registered outcome ``name``; a KeyError names the unknown outcome."""
    try:
        return OUTCOMES[name]
    except KeyError:
        raise KeyError(f"unknown outcome {name!r}") from None
