"""Lankelly Chase's nine system behaviours, scored 0-10 from the model's state (ODD 7.14, Observation).

Each score is read from what emerged in the simulation (trust, ties, learning, referrals, who decides), not
from input settings, so that a scenario earns its scores. The mapping is a modelling choice, documented with its
limits in docs/ODD.md; the scores can be set beside those places give themselves in workshops, but they measure
the model's proxies, not the behaviours themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .rules import learning
from .rules.arrays import row_sum

if TYPE_CHECKING:
    from .model import PlaceModel

BEHAVIOURS = {
    "interconnected_whole": "People view themselves as part of an interconnected whole",
    "resourceful_strengths": "People are viewed as resourceful and bringing strengths",
    "shared_vision": "People share a vision",
    "shared_power": "Power is shared, and equality of voice actively promoted",
    "devolved_decisions": "Decision-making is devolved",
    "mutual_accountability": "Accountability is mutual",
    "trusting_relationships": "Open, trusting relationships enable effective dialogue",
    "collaborative_leadership": "Leadership is collaborative and promoted at every level",
    "collective_learning": "Feedback and collective learning drive adaptation",
}


def _clip10(x: float) -> float:
    return float(np.clip(10.0 * x, 0.0, 10.0)) if np.isfinite(x) else 0.0


def score_behaviours(model: PlaceModel, month: dict[str, float]) -> dict[str, float]:
    """Nine scores in [0, 10]. ``month`` holds the last four weeks' counts (``MONTH_COUNTS`` in indicators)."""
    rel = model.params.relations
    open_mask = model.providers.open
    ties = model.providers.ties[np.ix_(open_mask, open_mask)]
    n = ties.shape[0]
    pairs = np.triu_indices(n, 1)
    working = ties[pairs] >= rel.tie_threshold if n > 1 else np.zeros(0, bool)
    referrals = month["signposts"] + month["warm_handoffs"]
    warm = month["warm_handoffs"] / referrals if referrals > 0 else 0.0

    code = model.providers.code[open_mask]
    spoken = code != 0
    if n > 1:
        agree = ((code[:, None, :] == code[None, :, :]) & spoken[:, None, :] & spoken[None, :, :]).mean(axis=2)
        vision = float(agree[pairs].mean())
    else:
        vision = 0.0

    quintile = model.place.deprivation_quintile()[model.residents.home]
    trust_resident = row_sum(model.residents.trust) / model.residents.trust.shape[1]
    least, most = trust_resident[quintile == 0], trust_resident[quintile == quintile.max()]
    voice_gap = abs(float(least.mean()) - float(most.mean())) if least.size and most.size else 0.0

    closures = month["closures"]
    judged = month["closures_on_resolution"] / closures if closures > 0 else 0.0

    contacts = month["contacts_value"] + month["contacts_failure"]
    dropped = month["refusals"] + month["bounces"] + month["lost_referrals"]
    held = 1.0 - dropped / contacts if contacts > 0 else 0.0

    degree = (ties >= rel.tie_threshold).sum(axis=1)
    r = model.residents
    built = (r.resilience - r.resilience_base) + (r.connection - r.connection_base) > 0.02

    return {
        # working relationships across the system, and people passed on by relationship rather than leaflet
        "interconnected_whole": _clip10(0.5 * (float(working.mean()) if working.size else 0.0) + 0.5 * warm),
        # residents whose strengths support has built beyond their own baseline (10 = a quarter of residents)
        "resourceful_strengths": _clip10(float(built.mean()) / 0.25),
        # providers' codes agreeing on what helps (a shared view of the work)
        "shared_vision": _clip10(vision),
        # equal trust between the most and least deprived fifths (a gap of 0.25 or more scores 0)
        "shared_power": _clip10(1.0 - voice_gap / 0.25),
        # who decides: the share of cases closed on a practitioner's judgement that needs are resolved, rather
        # than by an episode rule or a cap
        "devolved_decisions": _clip10(judged),
        # people held by the system rather than refused, bounced or lost between doors
        "mutual_accountability": _clip10(held),
        # residents' trust in providers and providers' ties to one another
        "trusting_relationships": _clip10(0.5 * float(model.residents.trust.mean()) + 0.5 * float(
            ties[pairs].mean() if n > 1 else 0.0)),
        # collaboration at every level: the share of providers with at least one working relationship
        "collaborative_leadership": _clip10(float((degree > 0).mean()) if n else 0.0),
        # how well the codes' learning tracks what actually helps (March's knowledge, negative scores 0)
        "collective_learning": _clip10(float(learning.knowledge(code, model.reality).mean())),
    }
