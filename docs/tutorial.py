# Tutorial: run a scenario, compare two, and read what comes out.
#
#     .venv/bin/python docs/tutorial.py        # about half a minute; figures go to results/tutorial/
#
# A literate script for students: the comments are the text, the code is what you would type. Each `# %%` marks
# a cell, so editors such as VS Code or Jupyter (via jupytext) can run it a cell at a time. The tests run it
# from top to bottom (tests/explorer/test_tutorial.py), so every number it prints comes from the model as it is
# now. Set PLACESIM_TUTORIAL_OUT to write the figures somewhere else.
#
# You will need the explorer's Info tab (docs/INFO.md) for the ideas, and docs/ODD.md for the full rules.

# %% [markdown]
# ## 1. Set up
#
# Everything a run needs is configuration in `conf/`. `load_config` composes it exactly as the command line
# does, from `key=value` overrides, and checks every value; `model_params` keeps the part the model reads.
# We keep the world small so the tutorial is quick: 3,000 residents, one burn-in year and three evaluated years.

# %%
import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from experiments.engine.config import load_config, model_params, quiet_libraries
from experiments.engine.plan import plan_runs
from experiments.engine.runner import simulate
from experiments.engine.seeds import replicate_seeds
from experiments.engine.store import results_root
from experiments.stats.comparison import paired_differences, summarise_runs
from sim.indicators import monthly

quiet_libraries()
OUT = Path(os.environ.get("PLACESIM_TUTORIAL_OUT", results_root() / "tutorial"))
OUT.mkdir(parents=True, exist_ok=True)
SMALL = ["residents=3000", "years=3", "burn_in_years=1"]

# %% [markdown]
# ## 2. Run one scenario
#
# `simulate` builds a `PlaceModel`, runs every week of the horizon and returns three things: `summary`
# (headline outcomes over the evaluated years, after the burn-in), `timeseries` (one row per week) and
# `neighbourhoods` (one row per neighbourhood per four-week month).

# %%
_, config = load_config(["scenario=silo", "seed=1", *SMALL])
silo = simulate(model_params(config), resident_agents=False)

for key in ("mean_wellbeing", "failure_demand_share", "crises_per_1000_per_year", "mean_wait_weeks",
            "mean_resident_trust", "collaboration_density", "total_cost"):
    print(f"{key:<28} {silo.summary[key]:>12,.3f}")

# %% [markdown]
# **Reading it.** `failure_demand_share` is the share of all contacts that were caused by an earlier failure to
# help (Seddon's failure demand: a bounce from the wrong door, a refusal, an episode closed too early, a lost
# signpost, chasing while waiting). Seddon found 40-60 % in silo services; where does this run land?
#
# The weekly table has a `year` column: negative years are the burn-in. Sum the weekly counts by year:

# %%
ts = silo.timeseries
by_year = ts.groupby("year")[["contacts_value", "contacts_failure", "crises", "spend_support",
                              "spend_community", "spend_emergency"]].sum()
by_year["failure_demand_share"] = by_year["contacts_failure"] / (by_year["contacts_value"]
                                                                  + by_year["contacts_failure"])
print(by_year.round(3).to_string())

# %% [markdown]
# Which kinds of failure make up that demand? The `failure_*` columns count each kind as it happens.

# %%
kinds = [c for c in ts.columns if c.startswith("failure_")]
evaluated = ts[ts["year"] >= 0]
print((evaluated[kinds].sum() / evaluated[["contacts_value", "contacts_failure"]].sum().sum()).round(3)
      .to_string())

# %% [markdown]
# ## 3. Compare two scenarios, honestly
#
# One run is one possible history. To compare `silo` with `whole_system` we run both with the same replicate
# seeds (common random numbers, so each pair differs only in the scenario) and look at the paired differences
# with confidence intervals. `plan_runs` composes and validates every run before any starts (scenarios x
# design points x seeds; here one point, the defaults); each run's `labels` say where it sits in the plan, and
# its `overrides` re-run it exactly with `experiments.run`. Three seeds is too few for a policy report (the
# comparison command uses ten), but enough to see how it works.

# %%
scenarios = ["silo", "whole_system"]
plan = plan_runs(SMALL, scenarios, [{}], replicate_seeds(20261122, 3))
print("the first run, reproducible:", " ".join(plan.specs[0].overrides))
rows, months = [], []
for spec in plan.specs:
    result = simulate(spec.params, resident_agents=False)
    rows.append({**spec.labels, **result.summary})
    months.append(monthly(result.timeseries).assign(**spec.labels))
runs = pd.DataFrame(rows)
summary = summarise_runs(runs, scenarios, 0.95)
differences = paired_differences(runs, scenarios, "silo", 0.95)
headline = ["mean_wellbeing", "failure_demand_share", "crises_per_1000_per_year", "mean_wait_weeks",
            "mean_tie_strength", "mean_resident_trust"]
print(summary[summary["outcome"].isin(headline)].round(3).to_string(index=False))
print()
print(differences[differences["outcome"].isin(headline)].round(3).to_string(index=False))

# %% [markdown]
# **Reading it.** A difference whose interval (`ci_low` to `ci_high`) excludes zero is one the seeds agree on.
# Which outcomes does whole-system working improve? Is failure demand one of them? Look at `mean_wait_weeks`:
# whole-system working refuses no one, so people who would have been refused now wait, and chase while they
# wait. That is a finding about capacity, not about relationships — try the explorer with a bigger budget.

# %% [markdown]
# ## 4. Draw it
#
# We kept each run's monthly indicators above (`monthly`: four-week blocks, time in years since the burn-in).
# We plot failure demand and wellbeing month by month, one thin line per seed, and save the figure.

# %%
by_month = pd.concat(months, ignore_index=True)
colours = {"silo": "#c53030", "whole_system": "#2b6cb0"}
fig = Figure(figsize=(9, 3.5), layout="constrained")
axes = fig.subplots(1, 2)
for (scenario, replicate), run in by_month.groupby(["scenario", "replicate"]):
    for ax, column in zip(axes, ("failure_demand_share", "mean_wellbeing"), strict=True):
        ax.plot(run["t_years"], run[column], color=colours[scenario], linewidth=0.9, alpha=0.8,
                label=scenario if replicate == 0 else None)
for ax, title in zip(axes, ("Failure demand share of contacts", "Mean wellbeing"), strict=True):
    ax.axvline(0, color="#999999", linestyle=":", linewidth=0.8)  # end of the burn-in
    ax.set_title(title)
    ax.set_xlabel("years since the burn-in")
axes[0].legend()
figure_path = OUT / "scenarios.png"
fig.savefig(figure_path, dpi=110)
print(f"figure: {figure_path}")

# %% [markdown]
# ## 5. Your turn
#
# 1. Re-run section 3 with `uncertainty.need_coupling=0` added to `SMALL`. Do the scenarios move closer?
# 2. Add `uncertainty.budget_per_resident=160`. What happens to whole-system working's waiting and failure
#    demand? To silo's?
# 3. Add `place=gateshead`. Which outcomes change most, and why might a place deprived in pockets differ?
# 4. Open the explorer (`.venv/bin/python -m experiments.explore`), set the same values, press Reset and Play,
#    and watch the same story unfold week by week.
