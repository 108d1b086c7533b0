"""Triage and admission (sim/rules/triage.py, ODD 7.6) on hand-built arrivals and waiting lists.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np

from sim.rules import triage

OUTCOMES = ("refer_service", "refer_community", "refused", "brief_help", "queue")
THRESHOLD = 0.4  # the service's eligibility threshold in these examples
CEILING, BRIEF_BELOW = 0.7, 0.2  # org_case_ceiling and brief_help_below in these examples


def _triage(rows: list[tuple[bool, bool, float, bool, bool, bool]]) -> triage.Triage:
    """Triage a hand-built list of arrivals, one tuple each:
    (at_service, presenting_is_door, need, bespoke, no_wrong_door, local_org_open), threshold ``THRESHOLD``."""
    at_service, is_door, need, bespoke, no_wrong_door, org_open = (np.array(c) for c in zip(*rows, strict=True))
    return triage.triage(at_service, is_door, need, np.full(len(rows), THRESHOLD), bespoke, no_wrong_door,
                         org_open, CEILING, BRIEF_BELOW)


def _outcomes(t: triage.Triage) -> list[str]:
    """The one outcome of each arrival (fails if an arrival is in none or in more than one)."""
    masks = np.stack([getattr(t, name) for name in OUTCOMES])
    assert (masks.sum(axis=0) == 1).all(), masks
    return [OUTCOMES[i] for i in masks.argmax(axis=0)]


def test_triage_service_right_door_eligible_joins_queue():
    """Service, right door, need >= threshold (equality included) -> queue, whatever the practice levers."""
    t = _triage([
        (True, True, 0.9, False, False, False),
        (True, True, THRESHOLD, False, False, False),  # need == threshold is eligible
        (True, True, 0.5, True, True, True),
        (True, True, 0.5, False, True, False),
    ])
    assert _outcomes(t) == ["queue"] * 4
    assert not t.bounced.any()


def test_triage_service_below_threshold_no_wrong_door_open_org_refers_to_community():
    """Service, need < threshold, no_wrong_door and an open local organisation -> refer_community."""
    t = _triage([
        (True, True, 0.39, False, True, True),
        (True, True, 0.0, True, True, True),
    ])
    assert _outcomes(t) == ["refer_community"] * 2
    assert not t.bounced.any()


def test_triage_service_below_threshold_otherwise_refused():
    """Service, need < threshold, without no_wrong_door or without an open local organisation -> refused."""
    t = _triage([
        (True, True, 0.39, False, False, True),  # no no_wrong_door, org open
        (True, True, 0.39, False, True, False),  # no_wrong_door, org closed
        (True, True, 0.1, False, False, False),  # neither
    ])
    assert _outcomes(t) == ["refused"] * 3
    assert not t.bounced.any()


def test_triage_wrong_door_standardised_refers_to_service_and_bounces_only_without_no_wrong_door():
    """Wrong door, standardised: refer_service whatever the need; bounced = that referral & ~no_wrong_door."""
    t = _triage([
        (True, False, 0.9, False, False, True),  # high need: still referred, a bounce
        (True, False, 0.1, False, False, False),  # below the bar: referred, not refused; a bounce
        (True, False, 0.9, False, True, True),  # no_wrong_door: referred, no bounce
        (True, False, 0.1, False, True, True),  # below the bar at no_wrong_door: referred, not to the org
    ])
    assert _outcomes(t) == ["refer_service"] * 4
    np.testing.assert_array_equal(t.bounced, [True, True, False, False])


def test_triage_wrong_door_bespoke_is_assessed_as_its_own():
    """Wrong door, bespoke: no referral or bounce; assessed against the door's own threshold as the right door."""
    t = _triage([
        (True, False, 0.5, True, False, False),  # eligible -> queue
        (True, False, THRESHOLD, True, True, True),  # eligible at equality -> queue
        (True, False, 0.3, True, True, True),  # below the bar, no_wrong_door, org open -> community
        (True, False, 0.3, True, False, True),  # below the bar otherwise -> refused
    ])
    assert _outcomes(t) == ["queue", "queue", "refer_community", "refused"]
    assert not t.bounced.any()


def test_triage_community_organisation_brokers_helps_briefly_or_queues():
    """Org: need >= org_case_ceiling -> refer_service, need < brief_help_below -> brief_help, else queue."""
    # the service levers (threshold, bespoke, no_wrong_door, local org open) play no part: no one is turned away
    t = _triage([
        (False, False, 0.95, False, False, False),
        (False, False, CEILING, False, False, False),  # == ceiling -> brokered
        (False, False, 0.69, False, False, False),  # just below the ceiling -> queue
        (False, False, 0.3, True, True, True),  # below the service threshold 0.4, but orgs have none -> queue
        (False, False, BRIEF_BELOW, False, False, False),  # == brief_help_below -> queue
        (False, False, 0.19, False, False, False),  # below brief_help_below -> brief help
        (False, False, 0.0, True, True, True),
    ])
    assert _outcomes(t) == ["refer_service", "refer_service", "queue", "queue", "queue", "brief_help",
                            "brief_help"]
    assert not t.bounced.any()


def test_triage_every_arrival_has_exactly_one_outcome_on_random_inputs():
    """Property: every arrival has exactly one of the five outcomes; bounced is a subset of refer_service."""
    # needs and thresholds on a coarse grid, so that equalities at the bars occur
    rng = np.random.default_rng(0)
    grid = np.linspace(0.0, 1.0, 6)
    n = 64
    for _ in range(50):
        at_service, is_door, bespoke, no_wrong_door, org_open = rng.random((5, n)) < 0.5
        need, threshold = rng.choice(grid, n), rng.choice(grid, n)
        ceiling, brief_below = rng.choice(grid, 2)
        t = triage.triage(at_service, is_door, need, threshold, bespoke, no_wrong_door, org_open, ceiling,
                          brief_below)
        masks = np.stack([getattr(t, name) for name in OUTCOMES])
        assert masks.dtype == bool and masks.shape == (5, n) and t.bounced.shape == (n,)
        np.testing.assert_array_equal(masks.sum(axis=0), 1)
        assert not (t.bounced & ~t.refer_service).any()
        assert not (t.bounced & (~at_service | no_wrong_door)).any()


def test_admit_ranked_longest_waiting_first_within_free_slots():
    """Provider 0 has 2.7 free slots -> floor 2: the two longest waits (indices 1 and 2, both 5 weeks).
    Provider 1 has 0.5 -> none; provider 2 has negative room -> none."""
    provider = np.array([0, 0, 0, 1, 1, 2])
    wait = np.array([1, 5, 5, 2, 3, 9])
    admitted = triage.admit_ranked(provider, wait, np.array([2.7, 0.5, -1.0]))
    np.testing.assert_array_equal(admitted, [False, True, True, False, False, False])


def test_admit_ranked_breaks_ties_by_position_and_handles_interleaving():
    """Equal waits: the earlier position wins, per provider, even when providers are interleaved."""
    provider = np.array([1, 0, 1, 0, 0])
    wait = np.array([3, 3, 3, 3, 4])
    admitted = triage.admit_ranked(provider, wait, np.array([2.0, 1.0]))
    # provider 0: index 4 (4 weeks) then index 1 (first of the 3-week ties); provider 1: index 0
    np.testing.assert_array_equal(admitted, [True, True, False, False, True])
    np.testing.assert_array_equal(admitted, triage.admit_ranked(provider, wait, np.array([2.0, 1.0])))


def test_admit_ranked_empty_list():
    out = triage.admit_ranked(np.empty(0, np.intp), np.empty(0, np.int16), np.array([3.0]))
    assert out.shape == (0,) and out.dtype == bool


def _proportionate(rows, proportionate):
    at_service, is_door, need, bespoke, no_wrong_door, org_open = (np.array(c) for c in zip(*rows, strict=True))
    return triage.triage(at_service, is_door, need, np.full(len(rows), THRESHOLD), bespoke, no_wrong_door,
                         org_open, CEILING, BRIEF_BELOW, np.array(proportionate))


def test_a_proportionate_first_response_settles_light_needs_at_any_service_door():
    """At a service with a proportionate response, need < brief_help_below is settled there and then - right or
    wrong door, whatever the other levers - and a heavier need is triaged as before (the control: the same
    arrivals without a proportionate response are refused, bounced or referred)."""
    rows = [
        (True, True, 0.1, False, False, False),  # right door, light need: would be refused
        (True, False, 0.1, False, False, True),  # wrong door, light need: would be a bounce
        (True, False, 0.1, True, True, True),  # whole-person door, light need: would go to the community org
        (True, True, BRIEF_BELOW, False, False, False),  # at brief_help_below: no longer light -> refused
        (True, True, 0.9, True, True, True),  # heavy need: a case, as before
    ]
    t = _proportionate(rows, [True] * 5)
    assert _outcomes(t) == ["brief_help", "brief_help", "brief_help", "refused", "queue"]
    assert not t.bounced.any()
    without = _proportionate(rows, [False] * 5)
    assert _outcomes(without) == ["refused", "refer_service", "refer_community", "refused", "queue"]
    assert without.bounced.tolist() == [False, True, False, False, False]


def test_a_proportionate_response_leaves_community_organisations_as_they_are():
    """Community organisations already help light needs on the spot; the lever changes nothing there."""
    rows = [(False, False, 0.1, False, False, True), (False, False, 0.5, False, False, True),
            (False, False, 0.8, False, False, True)]
    assert _outcomes(_proportionate(rows, [True] * 3)) == _outcomes(_proportionate(rows, [False] * 3)) == [
        "brief_help", "queue", "refer_service"]


def test_admit_ranked_by_need_puts_the_greatest_need_first_then_the_longest_wait():
    """Priority = largest need where the list is ordered by need: 0.9 before 0.5 before 0.5-but-newer; a list
    ordered by arrival at the same provider index is unaffected (priority = waiting time)."""
    provider = np.array([0, 0, 0, 0, 1, 1, 1])
    wait = np.array([1, 9, 3, 3, 1, 9, 3])
    need = np.array([0.9, 0.2, 0.5, 0.5, 0.9, 0.2, 0.5])
    priority = triage.waiting_priority(np.array([True] * 4 + [False] * 3), wait, need)
    admitted = triage.admit_ranked(provider, wait, np.array([3.0, 1.0]), priority)
    # provider 0 (by need): 0.9 (wait 1), then the two 0.5s (wait 3, position breaks the tie) -> not the 0.2
    # provider 1 (by arrival): the longest wait (9) only
    assert admitted.tolist() == [True, False, True, True, False, True, False]
    two = triage.admit_ranked(provider, wait, np.array([2.0, 0.0]), priority)
    assert two.tolist() == [True, False, True, False, False, False, False]
    assert (triage.admit_ranked(provider, wait, np.array([3.0, 1.0]))
            == triage.admit_ranked(provider, wait, np.array([3.0, 1.0]), wait.astype(float))).all()
