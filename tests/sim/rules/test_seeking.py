"""Help-seeking (sim/rules/seeking.py, ODD 7.4) on hand-built arrays.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np

from sim.rules import seeking


def test_seek_probability_zero_below_floor_else_rate_trust_need():
    p = seeking.seek_probability(np.array([0.29, 0.3, 0.8]), np.array([1.0, 0.5, 0.5]), 0.25, 0.3)
    np.testing.assert_allclose(p, [0.0, 0.25 * 0.5 * 0.3, 0.25 * 0.5 * 0.8], rtol=1e-12)


S = 4  # services 0..3; community organisations from 4


def _doors(domain, local_org, org_open, n_services, p_community, p_wrong, seed=0):
    return seeking.choose_door(np.asarray(domain), np.asarray(local_org), np.asarray(org_open), n_services,
                               p_community, p_wrong, np.random.default_rng(seed))


def test_choose_door_community_door_when_open():
    """p_community_door = 1 and the local organisation open: every seeker goes to it, whatever p_wrong_door."""
    n = 200
    domain, org = np.arange(n) % S, S + np.arange(n) % 3
    door, to_org = _doors(domain, org, np.ones(n, bool), S, 1.0, 0.5)
    np.testing.assert_array_equal(door, org)
    assert to_org.all() and door.dtype == np.int16


def test_choose_door_never_a_closed_organisation():
    """A closed local organisation is never the door, even at p_community_door = 1; open ones are."""
    n = 200
    domain, org = np.arange(n) % S, S + np.arange(n) % 3
    org_open = np.arange(n) % 4 != 0  # every fourth seeker's organisation is closed
    door, to_org = _doors(domain, org, org_open, S, 1.0, 0.0)
    np.testing.assert_array_equal(to_org, org_open)
    np.testing.assert_array_equal(door, np.where(org_open, org, domain))  # closed -> the right service


def test_choose_door_right_service_without_wrong_doors():
    """p_community_door = 0 and p_wrong_door = 0: the door is the service for the seeker's domain."""
    n = 200
    domain = np.arange(n) % S
    door, to_org = _doors(domain, np.full(n, S), np.ones(n, bool), S, 0.0, 0.0)
    np.testing.assert_array_equal(door, domain)
    assert not to_org.any()


def test_choose_door_wrong_door_is_another_service():
    """p_wrong_door = 1 with several services: never the right service, always a service index < n_services."""
    n = 400
    domain = np.arange(n) % S
    door, to_org = _doors(domain, np.full(n, S), np.ones(n, bool), S, 0.0, 1.0)
    assert not to_org.any()
    assert (door != domain).all() and (door >= 0).all() and (door < S).all()
    for d in range(S):  # uniform over the others: each of the 3 others turns up among 100 draws
        assert set(door[domain == d].tolist()) == set(range(S)) - {d}


def test_choose_door_single_service_is_always_that_service():
    """One service only: p_wrong_door = 1 still sends every (non-community) seeker to service 0."""
    n = 100
    door, to_org = _doors(np.zeros(n, np.intp), np.ones(n, np.intp), np.ones(n, bool), 1, 0.0, 1.0)
    np.testing.assert_array_equal(door, np.zeros(n))
    assert not to_org.any()


def test_acts_on_signpost_at_probabilities_zero_and_one():
    """P(act) = p_take_up * trust: 0 when either is 0, 1 when both are 1."""
    rng = np.random.default_rng(4)
    n = 500
    assert not seeking.acts_on_signpost(np.ones(n), 0.0, rng).any()
    assert not seeking.acts_on_signpost(np.zeros(n), 1.0, rng).any()
    assert seeking.acts_on_signpost(np.ones(n), 1.0, rng).all()


def test_chases_at_probabilities_zero_and_one():
    """P(chase) = p_chase: none at 0, all at 1, an empty mask for no one."""
    rng = np.random.default_rng(5)
    assert not seeking.chases(500, 0.0, rng).any()
    assert seeking.chases(500, 1.0, rng).all()
    assert seeking.chases(0, 1.0, rng).shape == (0,)
