"""The engine every entry point runs on.

- :mod:`.config` - the configuration door: overrides in, validated parameters out, or one line naming the key
- :mod:`.cli` - help, one-line errors, a clean stop on Ctrl-C, progress
- :mod:`.store` - the results root, atomic writes, run records
- :mod:`.resources` - will a run fit in memory? (before any work)
- :mod:`.ranges` - the plausible range of each uncertainty (conf/ranges.yaml)
- :mod:`.seeds` - replicate seeds (common random numbers)
- :mod:`.designs` - grid, Latin hypercube, Morris and Sobol' designs
- :mod:`.plan` - every run of a study composed, validated, hashed and given the overrides that reproduce it
- :mod:`.runner` - one simulation; a run folder; the worker that writes a record
- :mod:`.executors` - local processes, Dask, Slurm (submitit)
- :mod:`.study` - a planned set of runs in one folder, resumable, compacted into one table
- :mod:`.sweeps` - sweep files (and the sensitivity and discovery files built on them)
"""
