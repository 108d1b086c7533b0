"""placesim's experiments: everything that runs the model and writes results.

- entry points, one thin module per command (``python -m experiments.<name>``): :mod:`.run`, :mod:`.compare`,
  :mod:`.sweep`, :mod:`.sensitivity`, :mod:`.discovery`, :mod:`.analysis`, :mod:`.benchmark`,
  :mod:`.dock_march`, :mod:`.explore`;
- :mod:`.engine` - the one engine they all run on: the configuration door, planning, the store, executors;
- :mod:`.stats` - statistics of comparisons, SALib sensitivity, PRIM scenario discovery;
- :mod:`.reporting` - figures and the comparison report;
- :mod:`.explorer` - the interactive page.

Only this package writes, and only under the results root (``results/`` or ``$PLACESIM_RESULTS``).
"""
