"""How much memory one run needs, estimated from its parameters before anything is allocated.

The estimate follows the arrays the model allocates (ODD 2) and the largest temporaries of a weekly step, with a
margin; ``experiments`` compares it with the memory the machine has, so a run too big for the machine is
refused up front, naming the key that makes it big, instead of failing half-way with a MemoryError. The figures
per resident were checked against measured peak memory (``tests/sim/test_resources.py``).
"""

from __future__ import annotations

import math

from .params import Params
from .state import Residents

MARGIN = 1.5  # allocator overhead, fragmentation and copies the count below misses
LIBRARIES = 300e6  # the interpreter with NumPy, pandas, Mesa and Hydra loaded (bytes)
AGENT_BYTES = 300  # one Mesa Resident handle: the object and its place in the model's agent sets
WEEKLY_COPIES = 4  # the weekly table, its DataFrame, the evaluated slice and the monthly blocks
LEARNING_BYTES = 40  # per staff belief: int8 beliefs plus the float64 draws and masks of a learning cycle
TIES_COPIES = 8  # (P, P) float64 arrays alive during a tie update or an observation


def resident_bytes(n_domains: int, social_degree: int, resident_agents: bool) -> float:
    """Bytes per resident: the resident arrays, their social ties, the temporaries of a week, a Mesa handle."""
    d = n_domains
    state = Residents.bytes_per_row(domains=d, trust=d + 1)  # every column of the residents' table (sim/state.py)
    network = social_degree * 8 + 8  # CSR: float32 data + int32 index per contact, int64 row pointer
    building = social_degree * 20  # the network's COO lists while it is built
    weekly = d * 4 * 8 + (d + 1) * 4 * 4  # (N, D) need temporaries and word of mouth's (N, D + 1) products
    return state + network + max(building, weekly) + (AGENT_BYTES if resident_agents else 0)


def memory_estimate(params: Params, n_neighbourhoods: int, *, resident_agents: bool = True) -> dict[str, float]:
    """Estimated peak bytes of one run, split by the key that drives each part.

    Keys: ``residents`` (resident arrays), ``years`` (the weekly and monthly tables),
    ``relations.staff_per_provider`` or ``relations.learning_dimensions``, whichever is further above its default
    (staff beliefs while providers learn), ``place.n_neighbourhoods`` (ties between providers: one community
    organisation per neighbourhood at most), and ``libraries`` (fixed). Each part already includes the margin.
    """
    rel = params.relations
    d = len(rel.domains)
    if params.place.source == "synthetic":
        n_orgs = math.ceil(n_neighbourhoods / params.place.neighbourhoods_per_org)
    else:
        n_orgs = n_neighbourhoods
    providers = d + n_orgs
    weeks = 52 * (params.years + params.burn_in_years)
    weekly_columns = 60 + 2 * d  # indicators and counts per week (sim.indicators.WEEKLY_COLUMNS)
    default = type(rel)()
    learning_key = ("relations.learning_dimensions"
                    if rel.learning_dimensions / default.learning_dimensions
                    > rel.staff_per_provider / default.staff_per_provider else "relations.staff_per_provider")
    return {
        "residents": MARGIN * params.residents * resident_bytes(d, rel.social_degree, resident_agents),
        "years": MARGIN * WEEKLY_COPIES * 8 * weeks * (weekly_columns + n_neighbourhoods * 8 / 4),
        learning_key: MARGIN * LEARNING_BYTES * providers * rel.staff_per_provider
        * rel.learning_dimensions,
        "place.n_neighbourhoods": MARGIN * TIES_COPIES * 8 * providers**2,
        "libraries": LIBRARIES,
    }
