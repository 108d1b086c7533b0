"""Residents' and providers' state as structures of arrays (ODD 2: entities and state variables).

Each kind of entity is one :class:`Table`: a set of named NumPy columns with one row per member, declared once
with its type, its width (one value per row, one per need domain, one per trust column, one per provider) and
the value a new member starts from. A submodel that adds a per-resident variable adds one line to a table's
``COLUMNS`` (and its rule and its test): allocation, resetting a row for a newcomer and the memory estimate
follow from the declaration.

``reset(rows)`` gives rows a new member with no history: every history column goes back to its fresh value.
The columns marked ``drawn`` describe the person (needs, strengths, trust, entrenchment) and are drawn from the
place's profile by the model when someone arrives (ODD 5, 7.18); ``kept`` columns belong to the row itself (the
home a newcomer moves into) and are never reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

NONE = -1  # "no provider", "no domain"
LONG_STANDING = -(2**30)  # the arrival week of residents who lived in the place before the simulation started


@dataclass(frozen=True)
class Column:
    """One state variable: its dtype, width (``None`` = one value per row, else the name - or names - of widths
    given to the table, e.g. ``"domains"``), the value a new member starts from, and what it means (units)."""

    def shape(self, n: int, widths: dict[str, int]) -> tuple[int, ...]:
        names = () if self.width is None else (self.width,) if isinstance(self.width, str) else self.width
        return (n, *(widths[w] for w in names))

    dtype: type
    fresh: float | int = 0
    width: str | tuple[str, ...] | None = None
    doc: str = ""
    drawn: bool = False  # describes the person: drawn from the place's profile on arrival, not set to `fresh`
    kept: bool = False  # belongs to the row (the home), not to whoever lives there: never reset


class Table:
    """A structure of arrays: one attribute per column, ``len(self)`` rows."""

    COLUMNS: ClassVar[dict[str, Column]] = {}

    def __init__(self, n: int, **widths: int) -> None:
        self.n = int(n)
        self.widths = widths
        for name, column in self.COLUMNS.items():
            setattr(self, name, np.full(column.shape(self.n, widths), column.fresh, dtype=column.dtype))

    def __len__(self) -> int:
        return self.n

    def reset(self, rows: np.ndarray) -> None:
        """Rows ``rows`` hold a new member: every history column back to its fresh value (``drawn`` columns are
        left for the caller to draw, ``kept`` columns stay)."""
        for name, column in self.COLUMNS.items():
            if not (column.drawn or column.kept):
                getattr(self, name)[rows] = column.fresh

    def nbytes(self) -> int:
        """Bytes held by the columns."""
        return int(sum(getattr(self, name).nbytes for name in self.COLUMNS))

    @classmethod
    def bytes_per_row(cls, **widths: int) -> int:
        """Bytes one row takes, from the declaration alone (for the memory estimate before anything is built)."""
        return int(sum(np.dtype(c.dtype).itemsize * int(np.prod(c.shape(1, widths))) for c in cls.COLUMNS.values()))


class Residents(Table):
    """Every resident's state, one row each (widths: ``domains`` = D, ``trust`` = S + 1)."""

    COLUMNS: ClassVar[dict[str, Column]] = {
        # the row: where it is
        "home": Column(np.int32, 0, doc="neighbourhood", kept=True),
        # the person (drawn from the place's profile on arrival)
        "need": Column(np.float32, 0.0, "domains", "severity of need per domain, 0-1", drawn=True),
        "resilience_base": Column(np.float32, 0.0, doc="resilience the resident relaxes to, 0-1", drawn=True),
        "resilience": Column(np.float32, 0.0, doc="resilience, 0-1", drawn=True),
        "connection_base": Column(np.float32, 0.0, doc="social connection the resident relaxes to", drawn=True),
        "connection": Column(np.float32, 0.0, doc="social connection, 0-1", drawn=True),
        "trust": Column(np.float32, 0.0, "trust", "trust in each service, then the local organisation", drawn=True),
        "entrenchment": Column(np.float32, 0.0, doc="entrenched disadvantage, 0-1 (ODD 7.19)", drawn=True),
        "chronic": Column(np.bool_, False, "domains", "domains entrenchment holds at a chronic level", drawn=True),
        "arrived_week": Column(np.int32, 0, doc="week the resident moved in (LONG_STANDING: before the start)",
                               drawn=True),
        # history with the services (a newcomer has none)
        "case_provider": Column(np.int16, NONE, doc="provider supporting the resident, -1 = none"),
        "case_domain": Column(np.int8, NONE, doc="domain of a standardised episode, -1 = whole person"),
        "case_weeks": Column(np.int32, 0, doc="weeks in the current case"),
        "case_units": Column(np.float32, 0.0, doc="staff case units the case took last week"),
        "wait_provider": Column(np.int16, NONE, doc="waiting list the resident is on, -1 = none"),
        "wait_domain": Column(np.int8, 0, doc="domain the resident waits about"),
        "wait_weeks": Column(np.int32, 0, doc="weeks on the waiting list"),
        "referral_target": Column(np.int16, NONE, doc="provider a signpost points to, -1 = none"),
        "referral_domain": Column(np.int8, 0, doc="domain of the signpost"),
        "referral_weeks": Column(np.int32, 0, doc="weeks the signpost has been held"),
        "failure_until": Column(np.int32, 0, "domains", "a contact about d before this week is failure demand"),
        "failure_kind": Column(np.int8, 0, "domains", "the kind of that failure (rules.failure)"),
        "crisis_until": Column(np.int32, 0, doc="crisis cool-down ends this week"),
        "spell_domain": Column(np.int8, NONE, doc="domain of an emergency spell under way, -1 = none (ODD 7.3)"),
        # derived: from the home and the person on arrival, from the week's state each week
        "hazard": Column(np.float32, 0.0, doc="weekly chance of a life event in this home (ODD 7.1)", kept=True),
        "unmet_by_resident": Column(np.float32, 0.0, doc="unmet need above the coupling floor (phase 2)"),
        "wellbeing": Column(np.float32, 0.0, doc="wellbeing, 0-1 (phase 11)", drawn=True),
        "multiple_disadvantage": Column(np.bool_, False, doc="3+ high needs at once (phase 11)"),
    }

    def __init__(self, home: np.ndarray, n_domains: int, n_trust: int) -> None:
        super().__init__(len(home), domains=n_domains, trust=n_trust)
        self.home[:] = home

    def idle(self, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` are neither supported, waiting nor holding a signpost."""
        return (self.case_provider[rows] < 0) & (self.wait_provider[rows] < 0) & (self.referral_target[rows] < 0)


class Providers(Table):
    """Every provider's state, one row each: services 0..S-1 (service s serves domain s), then community
    organisations (widths: ``providers`` = P, ``staff`` = staff whose beliefs are modelled, ``dimensions`` = m)."""

    COLUMNS: ClassVar[dict[str, Column]] = {
        "open": Column(np.bool_, True, doc="open (a community organisation can close)"),
        "threshold": Column(np.float64, 0.0, doc="eligibility threshold (services), 0-1"),
        "budget_remaining": Column(np.float64, 0.0, doc="what is left of this year's budget, GBP"),
        "budget_year": Column(np.float64, 0.0, doc="planned annual staffing, GBP"),
        "emergency_year": Column(np.float64, 0.0, doc="declared emergency spend charged to it this year, GBP"),
        "contact_load": Column(np.float64, 0.0, doc="staff units spent this week on contacts and chases"),
        "arrivals_quarter": Column(np.float64, 0.0, doc="people arriving this quarter: the demand commissioners see"),
        "arrivals_year": Column(np.float64, 0.0, doc="people arriving this year"),
        "capacity": Column(np.float64, 0.0, doc="staff case units fielded this week"),
        "load": Column(np.float64, 0.0, doc="case units of support given this week"),
        "stretch": Column(np.float64, 1.0, doc="min(1, capacity / demand): staff spread thin"),
        "unit_cost": Column(np.float64, 0.0, doc="GBP of staff time for one case-week", kept=True),
        "relet_week": Column(np.int64, -1, doc="week a contract last changed hands to this provider"),
        "ties": Column(np.float64, 0.0, "providers", "working relationship with each provider, 0-1"),
        "joint_work": Column(np.float64, 0.0, "providers", "this week's joint case-weeks and hand-offs with each"),
        "staff_beliefs": Column(np.int8, 0, ("staff", "dimensions"), "staff beliefs about what helps, -1/0/1",
                                drawn=True),
        "code": Column(np.int8, 0, "dimensions", "the organisational code, -1/0/1 per dimension"),
        "target_aligned": Column(np.bool_, False, "dimensions", "dimensions its targets reward correctly",
                                 drawn=True),
        "knowledge": Column(np.float64, 0.5, doc="practice knowledge: share of what helps its staff know"),
    }

    def __init__(self, n: int, n_staff: int, n_dimensions: int) -> None:
        super().__init__(n, providers=n, staff=n_staff, dimensions=n_dimensions)
