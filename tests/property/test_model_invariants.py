"""Invariants of a whole model, checked every week of small runs (both scenarios, and a shrinking budget).

Bounds: needs, trust, ties and entrenchment in [0, 1]; capacity >= 0. Bookkeeping: residents conserved, in every
neighbourhood (each leaver's home taken by a newcomer, stamped with this week: ODD 7.18); nobody arrived in the
future; an emergency spell only in a spell domain (ODD 7.3); nobody is both in a case and on a waiting list.
Money (docs/ODD.md 7.10): staff spend never exceeds the budgets the commissioner set; only declared emergency
spend (spend_emergency) can take total spending past them.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import PlaceModel
from sim.indicators import WEEKLY_COLUMNS
from sim.model import WEEKS_PER_YEAR
from sim.state import LONG_STANDING, NONE

SUPPORT = WEEKLY_COLUMNS.index("spend_support")
COMMUNITY = WEEKLY_COLUMNS.index("spend_community")
EMERGENCY = WEEKLY_COLUMNS.index("spend_emergency")
LEFT, ARRIVED = WEEKLY_COLUMNS.index("left"), WEEKLY_COLUMNS.index("arrived")

CASES = {
    "silo": {"scenario": "silo"},
    "whole_system": {"scenario": "whole_system"},
    "silo_austerity": {"scenario": "silo", "uncertainty__budget_change_per_year": -0.2},
    "whole_system_austerity": {"scenario": "whole_system", "uncertainty__budget_change_per_year": -0.2},
}


def annual_budget(params, year: int) -> float:
    """What commission_year sets for year ``year`` (0 = first): budget_per_resident N (1 + change)^year."""
    world = params.uncertainty
    return world.budget_per_resident * params.residents * (1.0 + world.budget_change_per_year) ** year


@pytest.mark.parametrize("case", sorted(CASES))
def test_weekly_invariants(case, small_params):
    params = small_params(**CASES[case])
    model = PlaceModel(params, resident_agents=False)
    n = params.residents
    homes = np.bincount(model.residents.home, minlength=model.place.n_neighbourhoods)
    spell_domains = [model.domains.index(d) for d in params.relations.spell_domains]
    moved = 0
    staff_spent = 0.0  # cumulative spend_support + spend_community
    budgets = 0.0  # cumulative budgets set, including the current year's
    year_spent = 0.0
    for week in range(1, model.n_weeks + 1):
        year = (week - 1) // WEEKS_PER_YEAR
        if (week - 1) % WEEKS_PER_YEAR == 0:
            budgets += annual_budget(params, year)
            year_spent = 0.0
        model.step()
        # bounds
        r = model.residents
        assert r.need.min() >= 0.0 and r.need.max() <= 1.0, f"week {week}: need out of [0, 1]"
        assert r.trust.min() >= 0.0 and r.trust.max() <= 1.0, f"week {week}: trust out of [0, 1]"
        assert r.entrenchment.min() >= 0.0 and r.entrenchment.max() <= 1.0, f"week {week}: entrenchment out of [0, 1]"
        ties = model.providers.ties
        assert ties.min() >= 0.0 and ties.max() <= 1.0, f"week {week}: tie out of [0, 1]"
        assert model.providers.capacity.min() >= 0.0, f"week {week}: negative capacity"
        # bookkeeping
        assert r.need.shape[0] == r.trust.shape[0] == r.case_provider.shape[0] == n
        np.testing.assert_array_equal(np.bincount(model.residents.home, minlength=len(homes)), homes)
        here_before = r.arrived_week != week
        assert (r.arrived_week[here_before] < week).all(), f"week {week}: a resident arrived in the future"
        assert (r.arrived_week[here_before & (r.arrived_week < 1)] == LONG_STANDING).all()
        assert model.weekly[week - 1, LEFT] == model.weekly[week - 1, ARRIVED] == (~here_before).sum()
        moved += (~here_before).sum()
        assert np.isin(r.spell_domain, [NONE, *spell_domains]).all(), f"week {week}: a spell outside a spell domain"
        both = (model.residents.case_provider >= 0) & (model.residents.wait_provider >= 0)
        assert not both.any(), f"week {week}: {both.sum()} residents both in a case and on a waiting list"
        # money
        row = model.weekly[week - 1]
        assert row[SUPPORT] >= 0 and row[COMMUNITY] >= 0 and row[EMERGENCY] >= 0
        spent = row[SUPPORT] + row[COMMUNITY]
        staff_spent += spent
        year_spent += spent
        tolerance = 1e-9 * budgets
        assert year_spent <= annual_budget(params, year) + tolerance, f"week {week}: year {year} overspent"
        # total spent (staff + emergency) <= budgets set + declared emergency spend: staff spend <= budgets
        assert staff_spent <= budgets + tolerance, f"week {week}: staff spend exceeds the budgets set"
    assert model.steps == model.n_weeks
    assert moved > 0 and (model.residents.entrenchment > 0).any()  # the new checks bite: people move, some entrenched
    # the money checks bite: staff spending is a real share of the budget, not zero
    assert staff_spent > 0.3 * budgets  # at the default point crises and spells take about 45 % of the budget
