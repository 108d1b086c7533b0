"""The place (sim/place.py): who lives where, IMD deciles to deprivation, the two real places, quintiles."""

from __future__ import annotations

import numpy as np
import pytest

from sim.params import DEFAULT_DOMAINS, ParamError, PlaceParams
from sim.place import allocate_residents, decile_to_deprivation, imd_place, synthetic_place

REAL_PLACES = {
    "barking_and_dagenham": ("barking_and_dagenham_imd2019_lsoa.csv", 110),
    "gateshead": ("gateshead_imd2019_lsoa.csv", 126),
}


# --- allocate_residents -------------------------------------------------------------------------------------
def test_allocate_residents_hand_example_largest_remainder():
    """Populations 1:1:2, 7 residents: one each first, then the 4 spare in proportion -> 1+1, 1+1, 1+2."""
    np.testing.assert_array_equal(allocate_residents(np.array([1.0, 1.0, 2.0]), 7), [2, 2, 3])


def test_allocate_residents_ties_in_remainder_go_to_lower_index():
    """Three equal neighbourhoods, 5 residents: 2 spare, equal remainders -> the first two get one more."""
    np.testing.assert_array_equal(allocate_residents(np.ones(3), 5), [2, 2, 1])


def test_allocate_residents_sums_exactly_is_proportional_and_deterministic():
    population = np.random.default_rng(3).uniform(500, 3000, size=37)
    counts = allocate_residents(population, 10_001)
    assert counts.sum() == 10_001
    assert counts.min() >= 1
    quota = 1 + population / population.sum() * (10_001 - 37)
    assert np.abs(counts - quota).max() < 1.0  # largest remainder: within one of the exact share
    np.testing.assert_array_equal(counts, allocate_residents(population.copy(), 10_001))


def test_allocate_residents_one_each_when_residents_equal_neighbourhoods():
    np.testing.assert_array_equal(allocate_residents(np.array([5.0, 1.0, 9.0]), 3), [1, 1, 1])


def test_allocate_residents_rejects_fewer_residents_than_neighbourhoods():
    with pytest.raises(ParamError) as info:
        allocate_residents(np.ones(4), 3)
    assert info.value.key == "residents"


# --- deprivation --------------------------------------------------------------------------------------------
def test_decile_to_deprivation_endpoints_and_linearity():
    """Decile 1 (most deprived 10 % of England) -> 1.0; decile 10 -> 0.0; linear in between."""
    np.testing.assert_allclose(decile_to_deprivation(np.array([1, 10, 5.5])), [1.0, 0.0, 0.5], rtol=1e-12)


# --- real places --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REAL_PLACES))
def test_imd_place_loads_every_lsoa(name):
    """Each real place has one neighbourhood per LSOA, deprivation in [0, 1] per domain, and one community
    organisation per MSOA (fewer organisations than neighbourhoods; neighbourhoods in one MSOA share one)."""
    data_file, k = REAL_PLACES[name]
    place = imd_place(PlaceParams(name=name, source="imd2019", data_file=data_file), list(DEFAULT_DOMAINS))
    assert place.n_neighbourhoods == k
    assert place.deprivation.shape == (k, len(DEFAULT_DOMAINS))
    assert place.deprivation.min() >= 0.0 and place.deprivation.max() <= 1.0
    assert place.overall_deprivation.min() >= 0.0 and place.overall_deprivation.max() <= 1.0
    assert len(set(place.codes)) == k and all(code.startswith("E01") for code in place.codes)
    assert (place.population > 0).all()
    assert 1 < place.n_orgs < k
    np.testing.assert_array_equal(np.unique(place.org_cluster), np.arange(place.n_orgs))


def test_imd_place_clusters_by_msoa_number():
    """'Gateshead 027A' and 'Gateshead 027B' lie in MSOA 027 and share a community organisation."""
    import csv

    from sim.place import DATA_DIR

    place = imd_place(PlaceParams(name="gateshead", source="imd2019", data_file="gateshead_imd2019_lsoa.csv"),
                      list(DEFAULT_DOMAINS))
    with (DATA_DIR / "gateshead_imd2019_lsoa.csv").open(newline="") as handle:
        names = [row["lsoa11_name"] for row in csv.DictReader(handle)]
    msoa = [n[:-1] for n in names]
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert (place.org_cluster[i] == place.org_cluster[j]) == (msoa[i] == msoa[j])


def test_imd_place_missing_file_names_the_key():
    with pytest.raises(ParamError) as info:
        imd_place(PlaceParams(source="imd2019", data_file="nowhere.csv"), list(DEFAULT_DOMAINS))
    assert info.value.key == "place.data_file"


# --- synthetic place and quintiles --------------------------------------------------------------------------
def test_synthetic_place_shape_range_and_determinism():
    params = PlaceParams(n_neighbourhoods=20, neighbourhoods_per_org=4)
    place = synthetic_place(params, list(DEFAULT_DOMAINS), np.random.default_rng(5))
    again = synthetic_place(params, list(DEFAULT_DOMAINS), np.random.default_rng(5))
    assert place.n_neighbourhoods == 20 and place.n_orgs == 5
    np.testing.assert_array_equal(place.org_cluster, np.arange(20) // 4)
    assert place.deprivation.min() >= 0.0 and place.deprivation.max() <= 1.0
    np.testing.assert_array_equal(place.deprivation, again.deprivation)


@pytest.mark.parametrize("name", sorted(REAL_PLACES))
def test_deprivation_quintile_has_five_ordered_groups(name):
    """Quintile 0 = least deprived fifth, 4 = most deprived; five groups of (nearly) equal size."""
    data_file, k = REAL_PLACES[name]
    place = imd_place(PlaceParams(name=name, source="imd2019", data_file=data_file), list(DEFAULT_DOMAINS))
    quintile = place.deprivation_quintile()
    sizes = np.bincount(quintile)
    assert len(sizes) == 5 and sizes.sum() == k and sizes.max() - sizes.min() <= 1
    for q in range(4):  # every neighbourhood in a lower quintile is no more deprived than any in a higher one
        overall = place.overall_deprivation
        assert overall[quintile == q].max() <= overall[quintile == q + 1].min()


def test_deprivation_quintile_hand_example():
    place = synthetic_place(PlaceParams(n_neighbourhoods=10), list(DEFAULT_DOMAINS), np.random.default_rng(0))
    place.overall_deprivation = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])
    np.testing.assert_array_equal(place.deprivation_quintile(), [4, 0, 2, 1, 3, 1, 4, 2, 3, 0])
