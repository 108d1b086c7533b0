"""Analysis: statistics of comparisons (:mod:`.comparison`), SALib sensitivity indices (:mod:`.sensitivity`),
PRIM scenario discovery with the EMA workbench (:mod:`.prim`), and reading sweeps back (:mod:`.sweeps`)."""
