"""Read a sweep back: an outcome against a parameter, with a band per scenario.

    .venv/bin/python -m experiments.analysis sweep=uncertainty_lhs outcome=mean_wellbeing parameter=need_coupling
    .venv/bin/python -m experiments.analysis sweep=smoke outcome=total_cost parameter=need_coupling bins=5

``parameter`` is a varied key's column (its last component, or the full dotted key); ``outcome`` a column of
the sweep's table (names in sim/outcomes.py). Replicate seeds are averaged per point first; points are then
grouped into ``bins`` equal-width bins of the parameter (or by value, if it has no more distinct values than
bins) and each scenario's line is the mean with a band from the 10th to the 90th percentile. Writes
results/sweeps/<name>/<outcome>_vs_<parameter>.png. (In Python: ``pandas.read_parquet`` of the sweep's
table.parquet is the table itself.)
"""

from __future__ import annotations

from .engine.cli import entry_point, help_requested, relative
from .engine.config import ConfigError

KEYS = ("sweep", "outcome", "parameter", "bins")


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ()):
        return 0
    from .engine.config import check_overrides

    check_overrides(argv, groups=("sweep",))
    args = {}
    for item in argv:
        key, value = item.split("=", 1)
        if key not in KEYS:
            raise ConfigError(f"{key}: unknown key (use {', '.join(KEYS)})")
        args[key] = value
    for key in KEYS[:3]:
        if key not in args:
            raise ConfigError(f"{key}: missing")
    try:
        bins = int(args.get("bins", 10))
    except ValueError:
        raise ConfigError(f"bins: expected an integer, got {args['bins']!r}") from None
    if not 1 <= bins <= 1000:
        raise ConfigError(f"bins: must be in [1, 1000], got {bins}")
    import pandas as pd

    from sim.params import ParamError, check_name

    from .engine.store import check_results_root, output_dir
    from .reporting.analysis_plots import outcome_against_parameter
    from .stats.sweeps import bands

    try:
        check_name("sweep", args["sweep"])
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    check_results_root()
    folder = output_dir("sweeps", args["sweep"])
    if not (folder / "table.parquet").exists():
        raise ConfigError(f"sweep: no results for {args['sweep']!r} in {folder.parent} (run experiments.sweep first)")
    frame = pd.read_parquet(folder / "table.parquet")
    frame = frame[frame["status"] == "ok"]
    parameter = args["parameter"].split(".")[-1]
    for key, column in (("outcome", args["outcome"]), ("parameter", parameter)):
        if column not in frame.columns or column in ("status", "error", "config", "overrides"):
            raise ConfigError(f"{key}: {column!r} is not a column of sweep {args['sweep']}")
    path = folder / f"{args['outcome']}_vs_{parameter}.png"
    outcome_against_parameter(bands(frame, args["outcome"], parameter, bins), args["outcome"], parameter, path)
    print(f"Plot: {relative(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
