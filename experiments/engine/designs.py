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


# The most factors a regular 2^(k-p) fraction of 2^n runs can hold at resolution V (n: most factors), from the
# standard tables (Montgomery, Design and Analysis of Experiments, table of 2^(k-p) designs).
MOST_FACTORS_AT_RESOLUTION_V = {3: 3, 4: 5, 5: 6, 6: 8, 7: 11, 8: 17, 9: 23, 10: 33}


def fractional_factorial(k: int) -> np.ndarray:
    """A two-level fractional factorial of resolution V or better for ``k`` factors, coded -1/+1 (pyDOE3).

    Resolution V keeps every main effect and every two-factor interaction apart (each is aliased only with
    interactions of three factors or more), so all of them can be estimated. The design is the smallest regular
    fraction 2^(k-p): for p > 0 its generators are the first set of products of base factors whose defining
    relation has no word shorter than five letters, and pyDOE3's ``fracfact`` builds it; the result is checked
    directly (:func:`resolution_v`). pyDOE3's own ``fracfact_by_res(11, 5)`` returns a 64-run design whose
    two-factor interactions are aliased with one another (resolution IV), hence the search and the check.
    Deterministic: the same ``k`` gives the same design.
    """
    import string

    from pyDOE3 import fracfact

    letters = string.ascii_lowercase
    smallest = int(np.ceil(np.log2(1 + k + k * (k - 1) / 2)))  # runs for the mean, mains and interactions
    for base_k in range(min(smallest, k), k + 1):
        if MOST_FACTORS_AT_RESOLUTION_V.get(base_k, k) < k:
            continue  # no regular fraction of 2^base_k runs reaches resolution V for k factors
        base = letters[:base_k]
        extra = k - base_k
        words = [frozenset(c) for r in range(4, base_k + 1) for c in itertools.combinations(base, r)]
        for generators in itertools.combinations(words, extra):
            if _shortest_word(generators) >= 5:
                design = fracfact(" ".join([*base, *("".join(sorted(w)) for w in generators)]))
                if resolution_v(design):
                    return design
    raise ValueError(f"no resolution V design found for {k} factors")


def _shortest_word(generators: tuple[frozenset, ...]) -> int:
    """The shortest word of the defining relation of a fraction whose added factors are these products of base
    factors: every product of a non-empty subset of generators, each word counting its added factors too."""
    shortest = 10**6
    for r in range(1, len(generators) + 1):
        for subset in itertools.combinations(generators, r):
            letters: frozenset = frozenset()
            for word in subset:
                letters = letters ^ word
            shortest = min(shortest, len(letters) + r)
    return shortest if generators else 10**6


def interaction_columns(design: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Every two-factor product column of a design, with the pair of factors each belongs to."""
    k = design.shape[1]
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    columns = np.column_stack([design[:, i] * design[:, j] for i, j in pairs]) if pairs else np.empty((len(design), 0))
    return columns, pairs


def resolution_v(design: np.ndarray) -> bool:
    """True if the -1/+1 ``design`` keeps main effects and two-factor interactions mutually orthogonal."""
    columns, _ = interaction_columns(design)
    x = np.column_stack([np.ones(len(design)), design, columns])
    gram = x.T @ x
    return bool(np.allclose(gram, np.diag(np.diag(gram))))
