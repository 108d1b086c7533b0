"""Will it fit? The machine's memory against :func:`sim.resources.memory_estimate`, checked before any work."""

from __future__ import annotations

import os
from pathlib import Path

from sim.params import Params
from sim.place import count_neighbourhoods
from sim.resources import memory_estimate

from .config import ConfigError


def available_memory() -> float:
    """Bytes this process may still use: MemAvailable, or a smaller cgroup limit, else physical memory."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(float(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            candidates.append(float(limit))
    except OSError:
        pass
    if not candidates:
        try:
            candidates.append(float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")))
        except (ValueError, OSError, AttributeError):
            return float("inf")
    return min(candidates)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.3g} EB"


def check_memory(runs: Params | list[Params], engine=None, *, resident_agents: bool = True) -> float:
    """Refuse, naming the key that makes it big, a run that would not fit in memory (before any work starts).

    ``runs`` is one run or all the runs of a study; with an ``engine`` whose workers run on this machine (local
    processes or a Dask LocalCluster), runs that fit one at a time but not side by side name
    ``engine.workers``. Returns the largest estimate for one run (bytes).
    """
    from .executors import worker_count

    runs = runs if isinstance(runs, list) else [runs]
    neighbourhoods: dict[tuple, int] = {}
    largest: dict[str, float] = {}
    for params in runs:
        place = params.place
        key = (place.source, place.data_file, place.n_neighbourhoods)
        if key not in neighbourhoods:
            neighbourhoods[key] = count_neighbourhoods(place)
        parts = memory_estimate(params, neighbourhoods[key], resident_agents=resident_agents)
        if sum(parts.values()) > sum(largest.values()):
            largest = parts
    parts = largest
    one = sum(parts.values())
    here = engine is not None and (engine.executor == "local"
                                   or (engine.executor == "dask" and not engine.dask.address))
    concurrent = worker_count(engine, len(runs)) if here else 1
    available = available_memory()
    if one > available:
        key = max((k for k in parts if k != "libraries"), key=parts.get)
        raise ConfigError(f"{key}: this run needs about {_size(one)} of memory ({_size(parts[key])} of it for "
                          f"{key}); this machine has {_size(available)} available")
    if concurrent > 1 and one * concurrent > available:
        fits = max(1, int(available // one))
        raise ConfigError(f"engine.workers: {concurrent} runs side by side need about {_size(one * concurrent)} of "
                          f"memory; this machine has {_size(available)} available (try engine.workers={fits})")
    return one
