"""The configuration door (experiments/engine/config.py, sim/params.py): bad input is one line naming the key,
before any work; non-finite numbers, added keys, names that would become paths and sizes beyond the machine are
refused."""

from __future__ import annotations

import pytest

from experiments.engine.config import ConfigError, check_overrides, load_config, model_overrides, model_params
from experiments.engine.resources import check_memory

BAD = [
    (["residnts=5"], "residnts"),
    (["residents=abc"], "residents"),
    (["uncertainty.p_wrong_door=1.5"], "uncertainty.p_wrong_door"),
    (["uncertainty.relationship_build_rate=-0.1"], "uncertainty.relationship_build_rate"),
    (["uncertainty.budget_per_resident=-80"], "uncertainty.budget_per_resident"),
    (["residents=0"], "residents"),
    (["years=0"], "years"),
    (["place=nowhere"], "place"),
    (["scenario=nope"], "scenario"),
    (["practice.new.referral=fax"], "practice.new.referral"),
    (["compare.scenarios=[silo,nope]"], "compare.scenarios"),
    (["relations.social_degree=7"], "relations.social_degree"),
    (["scenario.first_adopters=[mony]"], "scenario.first_adopters[0]"),
    (["scenario.licensed=[all,comunity]"], "scenario.licensed[1]"),
    (["scenario.reform.funding=-1"], "scenario.reform.funding"),
    (["scenario.reform.funding=soon"], "scenario.reform.funding"),
    (["uncertainty.p_slip_back=2"], "uncertainty.p_slip_back"),
    (["infrastructure.after.funding.pooled=true"], "infrastructure.after.funding.pooled"),
    (["seed=-1"], "seed"),
    # non-finite numbers, everywhere
    (["uncertainty.budget_per_resident=inf"], "uncertainty.budget_per_resident"),
    (["uncertainty.budget_per_resident=1e308"], "uncertainty.budget_per_resident"),
    (["uncertainty.need_coupling=nan"], "uncertainty.need_coupling"),
    (["relations.emergency_cost=-inf"], "relations.emergency_cost"),
    (["relations.coupling_links=['money -> health: nan']"], "relations.coupling_links[0]"),
    (["relations.coupling_links=['money -> health: inf']"], "relations.coupling_links[0]"),
    (["uncertainty.budget_change_per_year=10", "years=400"], "uncertainty.budget_change_per_year"),
    # sizes that overflow the model's integer types
    (["relations.crisis_cooldown_weeks=100000000000"], "relations.crisis_cooldown_weeks"),
    (["practice.usual.episode_weeks=1000000000000000000000000000000"], "practice.usual.episode_weeks"),
    (["place.n_neighbourhoods=100000000"], "place.n_neighbourhoods"),
    # keys may not be added or deleted
    (["+newkey=1"], "+newkey"),
    (["++newkey=1"], "++newkey"),
    (["+relations.newthing=1"], "+relations.newthing"),
    (["~relations.tie_threshold"], "~relations.tie_threshold"),
    # names that would become paths
    (["scenario.name=/tmp/x"], "scenario.name"),
    (["scenario.name=../x"], "scenario.name"),
    (["place.name=a/b"], "place.name"),
    (["compare.name=x/../../../tmp/y"], "compare.name"),
    (["compare.name=.hidden"], "compare.name"),
    (["place=gateshead", "place.data_file=../../../etc/passwd"], "place.data_file"),
    (["relations.domains=[health,all]", "relations.coupling_links=[]"], "relations.domains[1]"),
    # the command line itself
    (["place="], "place"),
    (["scenario="], "scenario"),
    (["--residents=2000"], "--residents"),
    (["residents"], "residents"),
    (["compare.scenarios=[silo,silo]"], "compare.scenarios"),
    (["compare.baseline=whole_place"], "compare.baseline"),
    (["engine.workers=-1"], "engine.workers"),
    (["engine.executor=ray"], "engine.executor"),
    (["progress=sometimes"], "progress"),
]


@pytest.mark.parametrize(("overrides", "key"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_input_is_one_line_naming_the_key(overrides, key):
    """Every refusal is a ConfigError whose message is one line starting with the key."""
    with pytest.raises(ConfigError) as info:
        load_config(overrides)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{key}:"), message


def test_too_few_residents_for_a_real_place_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^residents:"):
        load_config(["place=gateshead", "residents=50"])


def test_missing_place_data_file_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^place\.data_file:"):
        load_config(["place=gateshead", "place.data_file=nowhere.csv"])


def test_dashes_get_the_spelling_that_works():
    with pytest.raises(ConfigError, match=r"try residents=2000"):
        check_overrides(["--residents=2000"])


def test_a_valid_name_with_dots_and_dashes_is_accepted():
    """The control for the name checks: plain names with '.', '-' and '_' pass."""
    _, config = load_config(["scenario.name=my-route_v1.2", "compare.name=run-2.b"])
    assert config.scenario.name == "my-route_v1.2"


@pytest.mark.parametrize(("overrides", "key"), [
    (["residents=10000000000"], "residents"),
    (["years=1000000000"], "years"),
    (["relations.staff_per_provider=100000000"], "relations.staff_per_provider"),
    (["relations.learning_dimensions=100000000"], "relations.learning_dimensions"),
])
def test_a_run_beyond_the_machines_memory_is_refused_up_front(overrides, key):
    """The memory estimate names the key that makes the run big and the estimate, before anything is allocated."""
    _, config = load_config(overrides)
    with pytest.raises(ConfigError) as info:
        check_memory(model_params(config))
    message = str(info.value)
    assert message.startswith(f"{key}:") and "memory" in message and "B" in message, message


def test_a_default_run_fits():
    """The control: the default run passes the memory check, and its estimate is a few hundred megabytes."""
    _, config = load_config([])
    assert 50e6 < check_memory(model_params(config)) < 2e9


def test_model_overrides_drop_run_settings_only():
    argv = ["residents=10", "compare.n_seeds=3", "engine.workers=2", "progress=off", "figures=true",
            "experiment=entry_points", "uncertainty.need_coupling=0"]
    assert model_overrides(argv) == ["residents=10", "experiment=entry_points", "uncertainty.need_coupling=0"]
