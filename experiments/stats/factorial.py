"""Effects from a two-level factorial: which parts of a reform buy what, and how much comes from their interplay.

Factors are coded 0 (the silo level) and 1 (the reformed level), and each outcome is fitted by least squares to

    y = b0 + sum_i b_i x_i + sum_{i<j} b_ij x_i x_j + e

on every run (each design point once per replicate seed; a resolution V design keeps every term estimable).
With this coding ``b0`` is the silo corner (every factor at its silo level), ``b_i`` what factor i buys on its
own from there, and ``b_ij`` what i and j buy together beyond the sum of their parts; silo to the full reform is
``sum b_i + sum b_ij`` exactly, which the waterfall shows step by step. Intervals are t-intervals from the
residual variance, which holds seed noise and interactions of three factors or more; with no residual degrees of
freedom (a saturated design with one seed) there are no intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

SILO = "silo (every factor at its silo level)"


@dataclass
class Fit:
    terms: list[str]  # "silo ...", each factor, each "a:b"
    coefficients: np.ndarray
    covariance: np.ndarray
    df: int

    def main_total(self, k: int) -> float:
        return float(self.coefficients[1:1 + k].sum())

    def interaction_total(self, k: int) -> float:
        return float(self.coefficients[1 + k:].sum())


def model_matrix(levels: np.ndarray, factors: list[str]) -> tuple[np.ndarray, list[str]]:
    """Columns: intercept, each factor (0/1), each product of two factors; and the term names."""
    k = len(factors)
    columns = [np.ones(len(levels)), *(levels[:, i] for i in range(k))]
    terms = [SILO, *factors]
    for i in range(k):
        for j in range(i + 1, k):
            columns.append(levels[:, i] * levels[:, j])
            terms.append(f"{factors[i]}:{factors[j]}")
    return np.column_stack(columns), terms


def fit(levels: np.ndarray, y: np.ndarray, factors: list[str]) -> Fit:
    """Least squares of main effects and two-factor interactions (0/1 coding) on one outcome."""
    x, terms = model_matrix(np.asarray(levels, dtype=float), factors)
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = len(y) - x.shape[1]
    residual = y - x @ coefficients
    sigma2 = float(residual @ residual) / df if df > 0 else np.nan
    covariance = sigma2 * np.linalg.pinv(x.T @ x)
    return Fit(terms, coefficients, (covariance + covariance.T) / 2, df)  # symmetric to the last bit


def effects_table(result: Fit, outcome: str, confidence: float) -> pd.DataFrame:
    """``term, outcome, effect, ci_low, ci_high`` for every term of a fit."""
    half = stats.t.ppf(0.5 + confidence / 2, max(result.df, 1)) * np.sqrt(np.diag(result.covariance))
    return pd.DataFrame({"term": result.terms, "outcome": outcome, "effect": result.coefficients,
                         "ci_low": result.coefficients - half, "ci_high": result.coefficients + half})


def interaction_share(result: Fit, k: int, confidence: float, draws: int = 4000,
                      seed: int = 0) -> tuple[float, float, float]:
    """Share of silo-to-full-reform that comes from interactions: sum b_ij / (sum b_i + sum b_ij), with a
    parametric bootstrap interval (coefficients drawn from their estimated normal distribution)."""
    total = result.main_total(k) + result.interaction_total(k)
    share = result.interaction_total(k) / total + 0.0 if total else np.nan
    if not np.isfinite(result.covariance).all():
        return float(share), np.nan, np.nan
    rng = np.random.default_rng(seed)
    sample = rng.multivariate_normal(result.coefficients, result.covariance, size=draws, method="svd")
    main, inter = sample[:, 1:1 + k].sum(axis=1), sample[:, 1 + k:].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = inter / (main + inter)
    low, high = np.nanquantile(shares, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return float(share), float(low), float(high)


def full_reform_interval(result: Fit, k: int, confidence: float) -> tuple[float, float, float]:
    """Silo to full reform (sum of every main effect and interaction) with its t-interval."""
    weights = np.r_[0.0, np.ones(len(result.coefficients) - 1)]
    value = float(weights @ result.coefficients)
    half = stats.t.ppf(0.5 + confidence / 2, max(result.df, 1)) * float(np.sqrt(weights @ result.covariance @ weights))
    return value, value - half, value + half


def waterfall_steps(result: Fit, k: int, top: int = 3) -> list[tuple[str, float]]:
    """Silo, then the main effects (largest first), then the ``top`` largest interactions and the rest together:
    the steps that add up from silo to the full reform."""
    coef = result.coefficients
    mains = sorted(range(1, 1 + k), key=lambda i: -abs(coef[i]))
    inter = sorted(range(1 + k, len(coef)), key=lambda i: -abs(coef[i]))
    steps = [(result.terms[0], float(coef[0]))]
    steps += [(result.terms[i], float(coef[i])) for i in mains]
    steps += [(result.terms[i], float(coef[i])) for i in inter[:top]]
    if len(inter) > top:
        steps.append((f"other interactions ({len(inter) - top})", float(coef[inter[top:]].sum())))
    return steps
