"""Designs: the points a sweep runs, from a grid or a sample of the plausible ranges.

A design is plain data - names, bounds, a seed - as in SALib: ``grid`` is the Cartesian product of given values;
``lhs`` a Latin hypercube (``scipy.stats.qmc``); ``morris`` and ``sobol`` are SALib's samples (Morris trajectories,
the Saltelli/Sobol' first- and total-order sample). The same design always gives the same points, in the same order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DESIGNS = ("grid", "lhs", "morris", "sobol")


@dataclass
class Factor:
    """One model key to vary: ``values`` for a grid, else the range ``[low, high]`` (integers are rounded)."""

    key: str
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False


@dataclass
class Design:
    kind: str  # grid | lhs | morris | sobol
    factors: list[Factor] = field(default_factory=list)
    samples: int = 8  # lhs: points; morris: trajectories; sobol: base sample N (points = N * (k + 2))
    morris_levels: int = 4
    seed: int = 0

    def problem(self) -> dict:
        """The SALib problem of a sampled design (names are the dotted keys)."""
        return {"num_vars": len(self.factors), "names": [f.key for f in self.factors],
                "bounds": [[float(f.low), float(f.high)] for f in self.factors]}

    def matrix(self) -> np.ndarray:
        """The sampled design as an (n points, k factors) array, before integers are rounded."""
        if self.kind == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(self.factors), seed=np.random.default_rng(self.seed)).random(self.samples)
            return qmc.scale(unit, [f.low for f in self.factors], [f.high for f in self.factors])
        if self.kind == "morris":
            from SALib.sample import morris

            return morris.sample(self.problem(), self.samples, num_levels=self.morris_levels, seed=self.seed)
        if self.kind == "sobol":
            from SALib.sample import sobol

            return sobol.sample(self.problem(), self.samples, calc_second_order=False, seed=self.seed)
        raise ValueError(f"design {self.kind!r} has no sample matrix")

    def points(self) -> list[dict[str, Any]]:
        """The design's points, in a fixed order: one ``{key: value}`` per point."""
        keys = [f.key for f in self.factors]
        if self.kind == "grid":
            combos = itertools.product(*[f.values for f in self.factors])
            return [dict(zip(keys, combo, strict=True)) for combo in combos]
        rows = []
        for row in self.matrix():
            rows.append({f.key: (round(float(v)) if f.integer else float(v)) for f, v in zip(self.factors, row,
                                                                                              strict=True)})
        return rows
