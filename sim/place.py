"""The place: neighbourhoods, their deprivation per need domain, and who lives where (ODD 5 and 6).

A synthetic place draws neighbourhood deprivation from a Beta distribution; a real place is read from the
English Indices of Deprivation 2019 (``sim/data/places/``), one neighbourhood per LSOA. Deprivation is in
[0, 1] per need domain, 1 = most deprived; it shapes starting needs, life-event hazards and starting trust.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .params import ParamError, PlaceParams

DATA_DIR = Path(__file__).resolve().parent / "data" / "places"

# Which IMD 2019 domain deciles stand for each need domain. A need domain not listed here takes the overall IMD.
IMD_DOMAIN_FOR_NEED = {
    "health": ["Health_decile"],
    "mental_health": ["Health_decile", "Income_decile"],
    "housing": ["Housing_and_Access_decile", "Environment_decile"],
    "money": ["Income_decile"],
    "work": ["Employment_decile", "Education_decile"],
    "safety": ["Crime_decile"],
}


@dataclass
class Place:
    """Neighbourhood-level description of a place. Arrays are indexed by neighbourhood k."""

    name: str
    codes: list[str]  # neighbourhood identifiers (LSOA codes for a real place)
    population: np.ndarray  # real or synthetic population weight, shape (K,)
    deprivation: np.ndarray  # (K, D) in [0, 1], 1 = most deprived, per need domain
    overall_deprivation: np.ndarray  # (K,) in [0, 1]
    org_cluster: np.ndarray  # (K,) index of the community organisation serving each neighbourhood

    @property
    def n_neighbourhoods(self) -> int:
        return len(self.codes)

    @property
    def n_orgs(self) -> int:
        return int(self.org_cluster.max()) + 1

    def deprivation_quintile(self) -> np.ndarray:
        """Quintile of overall deprivation per neighbourhood: 0 = least deprived fifth, 4 = most deprived."""
        order = np.argsort(np.argsort(self.overall_deprivation, kind="stable"), kind="stable")
        return (order * 5 // self.n_neighbourhoods).astype(np.int8)


def decile_to_deprivation(decile: np.ndarray) -> np.ndarray:
    """Map an IMD decile (1 = most deprived 10 % of England) to deprivation in [0, 1] (1 = most deprived)."""
    return (10.0 - np.asarray(decile, dtype=float)) / 9.0


def synthetic_place(params: PlaceParams, domains: list[str], rng: np.random.Generator) -> Place:
    """Neighbourhoods with overall deprivation ~ Beta(alpha, beta) and domain deviations ~ N(0, spread)."""
    k = params.n_neighbourhoods
    overall = rng.beta(params.deprivation_alpha, params.deprivation_beta, size=k)
    deviation = rng.normal(0.0, params.domain_spread, size=(k, len(domains)))
    deprivation = np.clip(overall[:, None] + deviation, 0.0, 1.0)
    population = rng.uniform(0.8, 1.2, size=k)
    cluster = np.arange(k) // params.neighbourhoods_per_org
    return Place(
        name=params.name,
        codes=[f"N{i + 1:03d}" for i in range(k)],
        population=population,
        deprivation=deprivation,
        overall_deprivation=overall,
        org_cluster=cluster.astype(np.int32),
    )


def _data_path(params: PlaceParams) -> Path:
    if not params.data_file:
        raise ParamError("place.data_file", "required when place.source is imd2019")
    path = DATA_DIR / params.data_file
    if not path.is_file():
        raise ParamError("place.data_file", f"no such file {params.data_file!r} in {DATA_DIR}")
    return path


def count_neighbourhoods(params: PlaceParams) -> int:
    """How many neighbourhoods the place will have (reads only the data file's rows for a real place)."""
    if params.source != "imd2019":
        return params.n_neighbourhoods
    with _data_path(params).open(newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def real_population(params: PlaceParams) -> float | None:
    """The real place's population (sum of its neighbourhoods' ONS 2015 estimates), or None for a synthetic place:
    what a report scales per-resident results to."""
    if params.source != "imd2019":
        return None
    with _data_path(params).open(newline="") as handle:
        return float(sum(float(row["population_2015"]) for row in csv.DictReader(handle)))


def imd_place(params: PlaceParams, domains: list[str]) -> Place:
    """Read a place from an IMD 2019 LSOA file; community organisations serve one MSOA each.

    The MSOA is the number in the LSOA name ("Gateshead 027A" lies in MSOA 027), so neighbourhoods that share it
    share a community organisation.
    """
    with _data_path(params).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = [row["lsoa11_code"] for row in rows]
    population = np.array([float(row["population_2015"]) for row in rows])
    columns = []
    for domain in domains:
        sources = IMD_DOMAIN_FOR_NEED.get(domain, ["IMD_decile"])
        deciles = np.array([[float(row[s]) for s in sources] for row in rows]).mean(axis=1)
        columns.append(decile_to_deprivation(deciles))
    deprivation = np.column_stack(columns)
    overall = decile_to_deprivation(np.array([float(row["IMD_decile"]) for row in rows]))
    msoa = [re.sub(r"[A-Z]$", "", row["lsoa11_name"]) for row in rows]
    _, cluster = np.unique(msoa, return_inverse=True)
    return Place(params.name, codes, population, deprivation, overall, cluster.astype(np.int32))


def build_place(params: PlaceParams, domains: list[str], rng: np.random.Generator) -> Place:
    if params.source == "imd2019":
        return imd_place(params, domains)
    return synthetic_place(params, domains, rng)


def allocate_residents(population: np.ndarray, residents: int) -> np.ndarray:
    """Residents per neighbourhood in proportion to population (largest remainder), each at least one.

    Deterministic: the same populations and total always give the same counts, summing exactly to ``residents``.
    """
    k = len(population)
    if residents < k:
        raise ParamError("residents", f"must be at least the number of neighbourhoods ({k})")
    spare = residents - k  # one resident per neighbourhood first, the rest in proportion
    quota = population / population.sum() * spare
    counts = np.floor(quota).astype(np.int64)
    remainder = spare - counts.sum()
    order = np.lexsort((np.arange(k), -(quota - counts)))  # largest remainders first, ties by index
    counts[order[:remainder]] += 1
    return counts + 1
