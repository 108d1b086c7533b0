"""Organisational learning after March (1991), with Christensen's (2015) gradual socialisation (ODD 7).

March, J. G. (1991). Exploration and exploitation in organizational learning. *Organization Science* 2(1).
Christensen, M. & Knudsen, T. (2015, as cited in the issue): socialisation moves a belief one step at a time.

Reality has ``m`` dimensions of +-1 (here: what actually helps people in this place). Each of ``n`` individuals
(staff) holds a belief per dimension in {-1, 0, +1}; the organisational code (specifications, guidance) holds
one too. Each period:

1. individuals act: a non-zero belief is acted on, a 0 belief acts as a coin flip; an individual's score is
   (dimensions whose action matches reality - dimensions whose action does not), a coin flip counting like any
   other action;
2. socialisation: on each dimension where the code (as it stood at the start of the period) is non-zero, with
   probability ``p1`` a belief moves one step towards it (-code -> 0, 0 -> code);
3. code learning: the code's score is (dimensions right - dimensions wrong), a 0 counting as neither; the
   superior group is the individuals whose action score exceeds it. On each dimension where the group's strict
   majority of *actions* (every vote +1 or -1) differs from the code, the code takes that value with probability
   ``1 - (1 - p2)**k``, ``k`` being the majority's margin;
4. turnover: each individual is replaced with probability ``p3`` by a newcomer with random beliefs;
5. turbulence: each dimension of reality flips with probability ``p4``.

Socialisation and code learning both read the state at the start of the period; the code learns from the actions
taken at the start of the period. Every function takes a leading
"run" axis, so thousands of independent organisations advance in one vectorised step; all randomness comes from
the generator passed in. Arrays: ``reality (R, m)``, ``beliefs (R, n, m)``, ``code (R, m)``, all int8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def new_reality(runs: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Reality: each dimension +1 or -1 with probability 0.5."""
    return np.where(rng.random((runs, m)) < 0.5, 1, -1).astype(np.int8)


def new_beliefs(runs: int, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Beliefs drawn uniformly from {-1, 0, +1}."""
    return (rng.integers(0, 3, size=(runs, n, m)) - 1).astype(np.int8)


def act(beliefs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Actions: the belief where it is non-zero, else a fair coin flip between -1 and +1."""
    coin = np.where(rng.random(beliefs.shape) < 0.5, 1, -1).astype(np.int8)
    return np.where(beliefs != 0, beliefs, coin)


def score(x: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """March's score of actions or a code (last axis m): dimensions right - dimensions wrong; a 0 is neither."""
    if x.ndim == reality.ndim + 1:
        reality = reality[..., None, :]
    return (x.astype(np.int16) * reality).sum(axis=-1)


def knowledge(code: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """March's knowledge of a code: (dimensions right - dimensions wrong) / m; a 0 is neither."""
    return (code * reality).sum(axis=-1) / code.shape[-1]


def socialise(beliefs: np.ndarray, code: np.ndarray, p1: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One step towards the code, with probability ``p1`` per belief, where the code is non-zero.

    ``p1`` is one probability, or one per run (R,).
    """
    p1 = np.asarray(p1)
    if p1.ndim == 1:
        p1 = p1[:, None, None]
    code_b = code[:, None, :]
    moves = (code_b != 0) & (beliefs != code_b) & (rng.random(beliefs.shape) < p1)
    stepped = np.where(beliefs == 0, code_b, 0).astype(np.int8)  # -code -> 0, 0 -> code
    return np.where(moves, stepped, beliefs)


def learn_code(code: np.ndarray, actions: np.ndarray, scores: np.ndarray, reality: np.ndarray,
               p2: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The code adopts the superior group's strict majority of actions where it differs, with probability
    1 - (1 - p2)**k, k the majority's margin.

    ``actions`` (R, n, m) are the individuals' actions (+-1) and ``scores`` (R, n) their scores
    (:func:`score`); the superior group of a run is those whose score exceeds the code's own
    (``score(code, reality)``). ``p2`` is one probability or one per run. Draws one number per code dimension.
    """
    p2 = np.asarray(p2)
    if p2.ndim == 1:
        p2 = p2[:, None]
    superior = scores > score(code, reality)[:, None]
    votes = np.where(superior[:, :, None], actions, 0).astype(np.int16)
    plus = (votes == 1).sum(axis=1)
    minus = (votes == -1).sum(axis=1)
    majority = np.sign(plus - minus).astype(np.int8)  # 0 where tied or no votes
    margin = np.abs(plus - minus)
    p_change = 1.0 - (1.0 - p2) ** margin
    change = (majority != 0) & (majority != code) & (rng.random(code.shape) < p_change)
    return np.where(change, majority, code)


def replace_staff(beliefs: np.ndarray, p3: float, rng: np.random.Generator) -> np.ndarray:
    """Turnover: each individual leaves with probability ``p3``; a newcomer brings random beliefs."""
    if p3 <= 0:
        return beliefs
    leave = rng.random(beliefs.shape[:2]) < p3
    fresh = (rng.integers(0, 3, size=beliefs.shape) - 1).astype(np.int8)
    return np.where(leave[:, :, None], fresh, beliefs)


def shift_reality(reality: np.ndarray, p4: float, rng: np.random.Generator) -> np.ndarray:
    """Turbulence: each dimension of reality flips with probability ``p4``."""
    if p4 <= 0:
        return reality
    return np.where(rng.random(reality.shape) < p4, -reality, reality).astype(np.int8)


def settled(beliefs: np.ndarray, code: np.ndarray) -> np.ndarray:
    """True for runs in which nothing can change any more (without turnover or turbulence): the code holds a view
    on every dimension and every individual believes it.

    Then every action equals the code, no one outscores it (the code cannot change) and socialisation has nothing
    to do. Short of that something can still move: a belief that differs from a non-zero code can be socialised,
    and where the code or a belief is 0 a lucky coin flip can make someone superior, from whom the code learns.
    """
    return (code != 0).all(axis=-1) & (beliefs == code[:, None, :]).all(axis=(1, 2))


def practice_knowledge(beliefs: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Expected share of staff actions that match reality: (beliefs right + half the 0 beliefs) / m, per run.

    This is what a provider's support draws on (frontline practice), as opposed to its code's knowledge.
    """
    right = (beliefs == reality[:, None, :]).mean(axis=(1, 2))
    unsure = (beliefs == 0).mean(axis=(1, 2))
    return right + 0.5 * unsure


def share_along_ties(code: np.ndarray, reality: np.ndarray, ties: np.ndarray, min_tie: float, p2: float | np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Learning across partners: a partner whose code knows more can teach yours.

    For each pair with tie >= ``min_tie`` where partner q's code knows more than p's (:func:`knowledge`), p adopts
    q's non-zero value on each dimension where they differ, with probability ``p2 * tie`` (``p2``: one
    probability, or the learner's own per provider). Reads the codes at the start and returns new codes, so the
    order of providers does not matter.
    """
    p2 = np.broadcast_to(np.asarray(p2, dtype=float), (code.shape[0],))
    known = knowledge(code, reality)
    new = code.copy()
    for p in range(code.shape[0]):
        teachers = np.flatnonzero((ties[p] >= min_tie) & (known > known[p]))
        for q in teachers[np.argsort(-known[teachers], kind="stable")]:
            differ = (code[q] != 0) & (code[q] != new[p])
            adopt = differ & (rng.random(code.shape[1]) < p2[p] * ties[p, q])
            new[p] = np.where(adopt, code[q], new[p])
    return new


@dataclass
class MarchResult:
    knowledge: np.ndarray  # (R,) code knowledge at the end (or averaged over the horizon with p3/p4)
    periods: np.ndarray  # (R,) periods run


def run_march(runs: int, p1: float, p2: float, rng: np.random.Generator, *, m: int = 30, n: int = 50,
              p3: float = 0.0, p4: float = 0.0, periods: int | None = None, max_periods: int = 20_000,
              average_from: int = 0) -> MarchResult:
    """Run ``runs`` independent organisations in March's setting.

    Without turnover and turbulence (and ``periods=None``) each run stops at equilibrium (:func:`settled`) and
    its final code knowledge is returned. With ``periods`` given, every run goes that long and the knowledge is
    averaged over periods ``average_from..periods`` (March's setting for turnover and turbulence).
    """
    reality = new_reality(runs, m, rng)
    beliefs = new_beliefs(runs, n, m, rng)
    code = np.zeros((runs, m), dtype=np.int8)
    active = np.ones(runs, dtype=bool)
    ran = np.zeros(runs, dtype=np.int64)
    total = np.zeros(runs)
    horizon = periods if periods is not None else max_periods
    for t in range(1, horizon + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        r, b, c = reality[idx], beliefs[idx], code[idx]
        actions = act(b, rng)
        b = socialise(b, c, p1, rng)
        new_code = learn_code(c, actions, score(actions, r), r, p2, rng)
        b = replace_staff(b, p3, rng)
        r = shift_reality(r, p4, rng)
        reality[idx], beliefs[idx], code[idx] = r, b, new_code
        ran[idx] = t
        if periods is None:
            active[idx] = ~settled(b, new_code)
        elif t > average_from:
            total[idx] += knowledge(new_code, r)
    if periods is None:
        return MarchResult(knowledge(code, reality), ran)
    return MarchResult(total / max(horizon - average_from, 1), ran)
