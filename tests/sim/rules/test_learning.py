"""March (1991) learning rules on tiny hand-built organisations with exact expectations, plus a fast docking check.

The full docking run (2,000 runs per cell) is an experiment: ``python -m experiments.dock_march``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules import learning as L


def arr(x):
    return np.array(x, dtype=np.int8)


def test_knowledge_counts_right_minus_wrong_over_m():
    reality = arr([[1, 1, -1, -1]])
    assert L.knowledge(arr([[1, -1, 0, -1]]), reality)[0] == pytest.approx((2 - 1) / 4)
    assert L.knowledge(arr([[0, 0, 0, 0]]), reality)[0] == 0.0


def test_score_is_right_minus_wrong_for_actions_and_codes():
    """March's score: an action (+-1) counts right or wrong; a code's 0 counts as neither."""
    reality = arr([[1, 1, -1, -1]])
    actions = arr([[[1, 1, -1, -1], [1, -1, 1, -1], [-1, -1, 1, 1]]])
    assert L.score(actions, reality).tolist() == [[4, 0, -4]]
    assert L.score(arr([[1, 0, 0, 1]]), reality).tolist() == [0]  # one right, one wrong, two silent


def test_act_keeps_nonzero_beliefs_and_flips_coins_for_zeros():
    beliefs = arr([[[1, -1, 0, 0, 0, 0, 0, 0]]])
    actions = L.act(beliefs, np.random.default_rng(3))
    assert actions[0, 0, 0] == 1 and actions[0, 0, 1] == -1
    assert set(np.unique(actions[0, 0, 2:])) <= {-1, 1}


def test_socialisation_moves_one_step_towards_a_nonzero_code():
    code = arr([[1, 1, 1, 0, -1]])
    beliefs = arr([[[-1, 0, 1, 1, 1]]])
    moved = L.socialise(beliefs, code, 1.0, np.random.default_rng(0))
    # -1 -> 0 (one step, not straight to the code); 0 -> 1; agreeing stays; code 0 leaves it; +1 -> 0 under -1
    assert moved.tolist() == [[[0, 1, 1, 1, 0]]]
    assert (L.socialise(beliefs, code, 0.0, np.random.default_rng(0)) == beliefs).all()


def test_code_adopts_the_superior_groups_majority_of_actions_with_certainty_when_p2_is_one():
    """Votes are actions (every one +1 or -1) of the individuals whose score beats the code's."""
    reality = arr([[1, 1, 1]])
    code = arr([[1, 0, 0]])  # score 1
    actions = arr([[[1, 1, -1], [1, -1, 1], [1, 1, 1], [-1, -1, -1]]])
    scores = L.score(actions, reality)  # [1, 1, 3, -3]: only the third beats the code
    assert scores.tolist() == [[1, 1, 3, -3]]
    learned = L.learn_code(code, actions, scores, reality, 1.0, np.random.default_rng(0))
    assert learned.tolist() == [[1, 1, 1]]
    superior_two = arr([[[1, 1, -1], [1, -1, 1], [-1, -1, -1]]])  # scores 1, 1, -3 against a code scoring 0
    learned = L.learn_code(arr([[0, 0, 0]]), superior_two, L.score(superior_two, reality), reality, 1.0,
                           np.random.default_rng(0))
    # dim 0: +1 by 2-0; dims 1 and 2: one +1 and one -1 vote tie -> unchanged
    assert learned.tolist() == [[1, 0, 0]]
    assert (L.learn_code(code, actions, scores, reality, 0.0, np.random.default_rng(0)) == code).all()


def test_code_change_probability_rises_with_the_majority_margin():
    rng = np.random.default_rng(11)
    reality = np.ones((20000, 1), np.int8)
    code = np.zeros((20000, 1), np.int8)
    one = np.ones((20000, 1, 1), np.int8)
    three = np.ones((20000, 3, 1), np.int8)
    p_one = (L.learn_code(code, one, np.ones((20000, 1)), reality, 0.3, rng) == 1).mean()
    p_three = (L.learn_code(code, three, np.ones((20000, 3)), reality, 0.3, rng) == 1).mean()
    assert p_one == pytest.approx(0.3, abs=0.015)
    assert p_three == pytest.approx(1 - 0.7**3, abs=0.015)


def test_turnover_and_turbulence_at_the_extremes():
    rng = np.random.default_rng(0)
    beliefs = np.zeros((2, 4, 30), np.int8)
    assert (L.replace_staff(beliefs, 0.0, rng) == beliefs).all()
    assert (L.replace_staff(beliefs, 1.0, rng) != 0).any()
    reality = arr([[1, -1, 1]])
    assert (L.shift_reality(reality, 1.0, rng) == -reality).all()
    assert (L.shift_reality(reality, 0.0, rng) == reality).all()


def test_settled_when_the_code_speaks_everywhere_and_everyone_agrees_with_it():
    code = arr([[1, -1, -1]])
    assert L.settled(np.repeat(code[:, None, :], 3, axis=1), code).all()
    beliefs = np.repeat(code[:, None, :], 3, axis=1).copy()
    beliefs[0, 0, 0] = -1  # one individual still differs where the code speaks: socialisation has work to do
    assert not L.settled(beliefs, code).any()
    silent = arr([[1, 0, -1]])  # a 0 in the code: coin flips can still make someone superior
    assert not L.settled(np.repeat(silent[:, None, :], 3, axis=1), silent).any()


def test_run_march_is_reproducible_and_bounded():
    a = L.run_march(30, 0.5, 0.5, np.random.default_rng(5))
    b = L.run_march(30, 0.5, 0.5, np.random.default_rng(5))
    assert (a.knowledge == b.knowledge).all() and (a.periods == b.periods).all()
    assert ((a.knowledge >= -1) & (a.knowledge <= 1)).all()


# March (1991) as replicated with gradual socialisation: equilibrium code knowledge ~0.97 at p1 = 0.1, p2 = 0.9
# and ~0.81 at p1 = 0.9, p2 = 0.1 (m = 30, n = 50). The references are given to two decimals (+-0.005).
@pytest.mark.parametrize(("p1", "p2", "reference"), [(0.1, 0.9, 0.97), (0.9, 0.1, 0.81)])
def test_docking_known_answer(p1, p2, reference):
    """Known answer: the mean over 400 runs lies within 4 standard errors (plus the references' rounding) of
    the replication's equilibrium knowledge."""
    result = L.run_march(400, p1, p2, np.random.default_rng(1991))
    k = result.knowledge
    se = k.std(ddof=1) / np.sqrt(k.size)
    assert abs(k.mean() - reference) <= 4 * se + 0.005, (k.mean(), se)
    assert (result.periods < 20_000).all()  # every run reached equilibrium


def test_docking_shape_and_direction():
    """Fast docking: knowledge falls as socialisation speeds up when code learning is fast (March's Figure 1),
    and fast code learning beats slow when socialisation is slow."""
    runs = 150

    def k(p1, p2, seed):
        return L.run_march(runs, p1, p2, np.random.default_rng(seed)).knowledge.mean()

    slow_social, fast_social = k(0.1, 0.9, 1), k(0.9, 0.9, 2)
    assert slow_social > fast_social + 0.15
    assert k(0.1, 0.9, 3) > k(0.1, 0.1, 4) + 0.05


def test_turnover_helps_when_socialisation_is_fast_and_turbulence_erodes_knowledge():
    """March's further findings, on a fixed horizon."""
    rng = np.random.default_rng(8)
    still = L.run_march(60, 0.9, 0.5, rng, periods=150, average_from=100).knowledge.mean()
    churn = L.run_march(60, 0.9, 0.5, rng, periods=150, average_from=100, p3=0.1).knowledge.mean()
    assert churn > still + 0.2
    calm = L.run_march(60, 0.5, 0.5, rng, periods=150, average_from=100).knowledge.mean()
    stormy = L.run_march(60, 0.5, 0.5, rng, periods=150, average_from=100, p4=0.02).knowledge.mean()
    assert stormy < calm - 0.1


def test_practice_knowledge_counts_right_beliefs_and_half_the_unsure():
    reality = arr([[1, -1, 1, -1]])
    assert L.practice_knowledge(reality[:, None, :], reality)[0] == 1.0
    assert L.practice_knowledge(-reality[:, None, :], reality)[0] == 0.0
    assert L.practice_knowledge(np.zeros((1, 3, 4), np.int8), reality)[0] == 0.5


def test_a_better_partner_teaches_along_a_strong_enough_tie():
    reality = arr([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]])
    code = arr([[0, -1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 1]])  # provider 2 knows most, provider 0 least
    ties = np.array([[0, 0.05, 1.0], [0.05, 0, 0], [1.0, 0, 0]])
    new = L.share_along_ties(code, reality, ties, min_tie=0.1, p2=1.0, rng=np.random.default_rng(0))
    assert new[0].tolist() == [1, 1, 1, 1]  # taught by 2 along a full tie
    assert new[1].tolist() == [1, 1, 1, 0]  # its only tie (0.05) is below the working threshold
    assert new[2].tolist() == [1, 1, 1, 1]  # no one knows more
    assert (L.share_along_ties(code, reality, ties, 0.1, 0.0, np.random.default_rng(0)) == code).all()
