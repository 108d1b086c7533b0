"""Reporting: figures (:mod:`.plots` for runs and comparisons, :mod:`.analysis_plots` for sweeps, sensitivity and
scenario discovery) and the comparison's report.md (:mod:`.report`)."""
