"""Parameters of the place model, as plain dataclasses (ODD 2 state and scales, ODD 5 initialisation).

Named as XLRM. The levers (L) come in three parts: ``practice`` (the two ways of frontline working),
``infrastructure`` (the system around practice, before and after reform) and ``scenario`` (the route from one
to the other: who starts, who may follow, when each part of infrastructure is reformed). ``uncertainty`` holds
the exogenous uncertainties (X), ``relations`` the structural constants of the model itself (R), ``place`` the
input data. Each field carries its admissible range in its metadata (a bound of sense: plausible ranges for
sweeps live in conf/ranges.yaml), so one validator (:func:`validate`) checks every key and names it in a one-line
message; numbers must be finite. ``experiments/engine/config.py`` registers these same classes with Hydra as the
schema of ``conf/``; ``sim`` itself never imports Hydra.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

INF = float("inf")
INT_MAX = 2**31 - 1  # counts and durations are stored in 32-bit arrays
WEEKS_MAX = 5200  # durations in weeks: at most a century
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # names that may become part of a file name


def _ranged(default: Any, low: float, high: float | None = None, *, low_open: bool = False) -> Any:
    """A number in [low, high] (or (low, high] with ``low_open``); every number must also be finite."""
    if high is None:
        high = INT_MAX if isinstance(default, int) and not isinstance(default, bool) else INF
    return field(default=default, metadata={"range": (low, high, low_open)})


def prob(default: float) -> Any:
    """A probability or share: must lie in [0, 1]."""
    return _ranged(default, 0.0, 1.0)


def nonneg(default: float, high: float | None = None) -> Any:
    """A rate, cost, scale or count: must be >= 0 (and at most ``high``: a bound of sense, not of plausibility;
    plausible ranges for sweeps live in conf/ranges.yaml)."""
    return _ranged(default, 0.0, high)


def positive(default: float, high: float | None = None) -> Any:
    """A population, duration or divisor: must be > 0 (and at most ``high``)."""
    return _ranged(default, 0.0, high, low_open=True)


def weeks(default: int) -> Any:
    """A duration in weeks: 1 to ``WEEKS_MAX``."""
    return _ranged(default, 1, WEEKS_MAX)


def choice(default: str, *options: str) -> Any:
    return field(default=default, metadata={"choices": options})


def plain_name(default: str) -> Any:
    """A name that may become part of a file name: letters, digits, ``_``, ``-`` and ``.``, not starting with a dot."""
    return field(default=default, metadata={"name": True})


COMMUNITY, ALL = "community", "all"  # names for every community organisation, and for every provider
PROVIDER_GROUPS = (COMMUNITY, ALL)

DEFAULT_DOMAINS = ["health", "mental_health", "housing", "money", "work", "safety"]
# Directed links "from -> to: weight": unmet need in `from` raises need in `to` (MODEL.md 3.2).
# The debt -> mental health -> work -> debt loop, housing <-> money, safety -> mental health, and
# health <-> mental health; weights are relative and scaled by uncertainty.need_coupling.
DEFAULT_COUPLING_LINKS = [
    "money -> mental_health: 1.0",
    "mental_health -> work: 1.0",
    "work -> money: 1.0",
    "money -> housing: 0.8",
    "housing -> mental_health: 0.8",
    "housing -> health: 0.5",
    "safety -> mental_health: 0.8",
    "mental_health -> health: 0.6",
    "health -> work: 0.6",
    "mental_health -> safety: 0.4",
]


@dataclass
class PlaceParams:
    """Where the simulation happens: a synthetic place or a real one built from IMD 2019 data."""

    name: str = plain_name("synthetic")
    source: str = choice("synthetic", "synthetic", "imd2019")
    data_file: str = field(default="", metadata={"file_name": True})  # for imd2019: a file name in sim/data/places/
    n_neighbourhoods: int = positive(20, 10_000)  # synthetic only
    deprivation_alpha: float = _ranged(2.0, 0.05, 100.0)  # synthetic: neighbourhood deprivation ~ Beta(alpha, beta)
    deprivation_beta: float = _ranged(3.0, 0.05, 100.0)
    domain_spread: float = nonneg(0.12, 1.0)  # synthetic: sd of each domain's deviation from the neighbourhood's
    neighbourhoods_per_org: int = positive(4, 10_000)  # synthetic: neighbourhoods served by one community organisation


@dataclass
class PracticeParams:
    """A way of frontline working (levers, L): how a provider meets, supports and passes on the people it sees.

    Two ways exist: ``practice.usual`` (business as usual: silo practice) and ``practice.new`` (whole-system,
    Human Learning Systems practice). Each provider works one of them, by whether it has adopted the new way.
    """

    no_wrong_door: bool = False  # any door assesses the whole person, instead of "wrong door, go elsewhere"
    bespoke_support: bool = False  # whole-person support of need-set length, vs a fixed own-domain episode
    episode_weeks: int = weeks(8)  # length of a standardised episode, closed on target
    max_case_weeks: int = weeks(40)  # cap on a bespoke case
    referral: str = choice("signpost", "signpost", "warm_handoff")
    relationship_time_share: float = prob(0.0)  # share of staff time spent building provider relationships
    p_socialisation: float = prob(0.7)  # March's p1: how fast staff are brought into line with the code
    p_code_learning: float = prob(0.5)  # March's p2: how fast the code learns from staff who do better
    proportionate_response: bool = False  # at any door, a need below relations.brief_help_below is settled there
    # and then (a conversation, a form, a connection) and a case is opened only where the need needs one
    waiting_order: str = choice("arrival", "arrival", "need")  # who starts first: the longest waiting, or the
    # greatest need (the resident's largest need: the risk of crisis), longest waiting first among equals


@dataclass
class CommissioningParams:
    """Infrastructure: how services are bought and who is allowed to work differently."""

    eligibility_threshold: float = prob(0.45)  # need severity a service requires before it helps
    contract_years: int = positive(2, 100)  # length of a service contract or community grant
    p_retender_loss: float = prob(0.3)  # chance an incumbent loses a competitive retender
    permits_new_practice: bool = False  # every provider may adopt the new way (else only scenario.licensed)


@dataclass
class AccountabilityParams:
    """Infrastructure: what providers are held to account for."""

    learning_signal: str = choice("targets", "targets", "outcomes")  # what providers' codes learn from
    rationing_response: float = nonneg(0.5, 100.0)  # how fast thresholds rise as waiting lists grow (per quarter)


@dataclass
class FundingParams:
    """Infrastructure: how money reaches providers."""

    pooled_budget: bool = False  # one pot, reallocated quarterly to where demand is
    community_grant_share: float = prob(0.05)  # share of the budget granted to community organisations
    prevention_cut_response: float = nonneg(1.0, 100.0)  # how hard grants are cut after an emergency overspend


@dataclass
class StaffDevelopmentParams:
    """Infrastructure: time and structures for staff to learn."""

    learning_cycle_weeks: int = weeks(52)  # how often practice is reviewed
    learning_along_ties: bool = False  # partners with better practice teach the code along working ties


INFRASTRUCTURE_PARTS = ("commissioning", "accountability", "funding", "staff_development")


@dataclass
class InfrastructureParams:
    """The system around practice, in four parts that can each be reformed in its own year (levers, L)."""

    commissioning: CommissioningParams = field(default_factory=CommissioningParams)
    accountability: AccountabilityParams = field(default_factory=AccountabilityParams)
    funding: FundingParams = field(default_factory=FundingParams)
    staff_development: StaffDevelopmentParams = field(default_factory=StaffDevelopmentParams)


def _new_practice() -> PracticeParams:
    return PracticeParams(no_wrong_door=True, bespoke_support=True, referral="warm_handoff",
                          relationship_time_share=0.05, p_socialisation=0.2, proportionate_response=True,
                          waiting_order="need")


def _reformed() -> InfrastructureParams:
    return InfrastructureParams(
        CommissioningParams(contract_years=7, p_retender_loss=0.0, permits_new_practice=True),
        AccountabilityParams(learning_signal="outcomes", rationing_response=0.0),
        FundingParams(pooled_budget=True, community_grant_share=0.10, prevention_cut_response=0.0),
        StaffDevelopmentParams(learning_cycle_weeks=13, learning_along_ties=True),
    )


@dataclass
class PracticeWays:
    """The two ways of frontline working (``conf/practice/``)."""

    usual: PracticeParams = field(default_factory=PracticeParams)
    new: PracticeParams = field(default_factory=_new_practice)


@dataclass
class InfrastructureStates:
    """Infrastructure before and after reform (``conf/infrastructure/``)."""

    before: InfrastructureParams = field(default_factory=InfrastructureParams)
    after: InfrastructureParams = field(default_factory=_reformed)


@dataclass
class ReformYears:
    """Evaluated year (0 = the first after burn-in) in which each part of infrastructure is reformed; null = never."""

    commissioning: int | None = None
    accountability: int | None = None
    funding: int | None = None
    staff_development: int | None = None


@dataclass
class ScenarioParams:
    """A route (levers, L): who works the new way from year 0, who may, and when infrastructure is reformed.

    Provider names are service domains (``money``, ``housing``, ...), ``community`` (every community
    organisation) or ``all``. Until year 0 (the burn-in) every scenario is the same place as it is today.
    """

    name: str = plain_name("silo")
    description: str = "Separate budgets and targets; thresholds, signposting, standardised episodes, short contracts."
    first_adopters: list[str] = field(default_factory=list)  # providers working the new way from year 0
    licensed: list[str] = field(default_factory=list)  # may adopt before commissioning permits everyone
    protected: list[str] = field(default_factory=list)  # never lost at retender (in-house teams, a protected prototype)
    shared_vision: float = prob(0.0)  # rise in every tie between providers at year 0 (a place-wide vision)
    p_leader_adoption: float = prob(0.0)  # quarterly chance a permitted provider adopts without exposure
    reform: ReformYears = field(default_factory=ReformYears)


@dataclass
class UncertaintyParams:
    """Uncertainties (X): facts about the world the commissioner does not choose."""

    need_coupling: float = nonneg(0.00325, 1.0)  # weekly spill of unmet need between linked domains; 0 = no interaction
    relationship_build_rate: float = nonneg(0.0544, 1.0)  # tie growth per week of joint work; 0 = ties never form
    coordination_cost: float = nonneg(0.367, 100.0)  # extra staff units per partner engaged per bespoke case-week
    trust_loss_gain_ratio: float = positive(1.13, 1000.0)  # a bad experience moves trust this many times a good one
    shock_rate: float = prob(0.00878)  # weekly chance of a life event for a resident of an average place
    deprivation_shock_gradient: float = nonneg(2.37, 100.0)  # extra hazard in the most deprived neighbourhoods
    demand_level: float = positive(1.22, 100.0)  # multiplier on the life-event hazard
    budget_per_resident: float = nonneg(96.1, 1e6)  # GBP per resident per year for the modelled services
    budget_change_per_year: float = _ranged(0.0, -1.0, 10.0)  # real-terms change each year (-0.052 = austerity)
    demand_change_per_year: float = _ranged(0.0, -0.5, 1.0)  # change each year in life events in the domains of
    # relations.demand_change_domains (0 = constant demand; austerity's period: homelessness demand +6 % a year)
    p_wrong_door: float = prob(0.414)  # chance a resident picks a service for another domain
    p_staff_turnover: float = prob(0.00422)  # weekly chance a provider loses a key member of staff (and of each
    # frontline member of staff leaving, for learning)
    adoption_threshold: float = positive(0.345, 1000.0)  # exposure (tie strength x visible results of adopters)
    # a provider needs before it adopts the new way (Centola & Macy: above one tie's worth, it needs reinforcement)
    p_slip_back: float = prob(0.0592)  # quarterly chance an adopter returns to the usual way with no infrastructure
    # reformed (scaled by the share of the four parts not reformed)
    change_time_share: float = prob(0.175)  # share of staff time a provider gives to training and redesign during
    # its first relations.change_weeks in the new way (ODD 7.16)
    relet_disruption_share: float = prob(0.268)  # share of capacity a provider taking over a re-let contract loses
    # while it mobilises (relations.mobilisation_weeks)
    practice_ramp_weeks: float = nonneg(80.0, 520.0)  # weeks before the new way's support reaches its full effect
    target_alignment: float = prob(0.778)  # share of what-helps dimensions that output targets reward correctly
    p_needs_shift: float = prob(0.0817)  # yearly chance each dimension of what helps changes (March's turbulence)
    leave_rate: float = prob(0.0767)  # yearly chance a resident with no need leaves the place (moves away or dies);
    # each leaver is replaced by a newcomer (ODD 7.18)
    entrenched_share: float = prob(0.049)  # share of residents (place average) who arrive with entrenched
    # disadvantage: a history of adversity that holds some needs at a chronic level (ODD 7.19)
    entrenchment_recovery_rate: float = prob(0.00259)  # weekly chance entrenched disadvantage ends on its own (long
    # histories: about 7 years on average at 0.00259)
    relational_healing_rate: float = prob(0.00787)  # extra weekly chance it ends during whole-person support, at full
    # quality (sustained relational support shortens entrenched disadvantage, slowly: J2SI, Fulfilling Lives)


@dataclass
class RelationsParams:
    """Relations (R): structural constants of the model. Every one is a guess worth sweeping."""

    domains: list[str] = field(default_factory=lambda: list(DEFAULT_DOMAINS))
    coupling_links: list[str] = field(default_factory=lambda: list(DEFAULT_COUPLING_LINKS))
    coupling_floor: float = prob(0.3)  # need below this does not spill into other domains
    initial_need_scale: float = prob(0.09)  # starting need ~ Exp(mean = scale * (0.15 + deprivation))
    shock_size: float = prob(0.25)  # mean rise in need from a life event
    natural_recovery_rate: float = prob(0.0268)  # weekly share of need that recovers on its own at mean strength
    crisis_threshold: float = prob(0.9)
    crisis_relief: float = prob(0.25)  # need removed by an emergency response
    crisis_cooldown_weeks: int = weeks(8)
    emergency_cost: float = nonneg(2140.0, 1e7)  # GBP per crisis borne by this budget (A&E, police, emergency housing)
    case_week_cost: float = _ranged(120.0, 1.0, 1e6)  # GBP of staff time for one case-week
    community_case_week_cost: float = _ranged(15.0, 1.0, 1e6)
    community_case_weeks: int = weeks(8)  # longest a community organisation supports one resident
    org_case_ceiling: float = prob(0.65)  # a community organisation brokers a service for needs above this
    brief_help_below: float = prob(0.4)  # a community organisation helps on the spot below this need
    brief_help_effect: float = prob(0.1)  # need removed by on-the-spot help (advice, a connection, a form filled)
    contact_handling_units: float = nonneg(0.1, 100.0)  # staff case-week units to handle one contact or chase
    support_effect_rate: float = prob(0.0919)  # weekly fall in need under support, at full knowledge and trust
    standardised_fit: float = prob(0.469)  # effect of a standard episode relative to support tailored to the person
    generalist_share: float = prob(0.457)  # effect outside the provider's own domain without a partner
    community_effect_rate: float = prob(0.0342)  # weekly fall in every domain under community support
    learning_dimensions: int = positive(30, INF)  # March's m: dimensions of what helps people in this place
    staff_per_provider: int = positive(20, INF)  # March's n: frontline staff whose beliefs are modelled
    strength_build_rate: float = prob(0.01)  # weekly rise of strengths under bespoke or community support
    strength_decay_rate: float = prob(0.005)  # weekly relaxation of strengths to their baseline
    seek_rate: float = prob(0.409)  # weekly chance of asking for help at need 1 and trust 1
    seek_floor: float = prob(0.3)  # need below which residents do not ask for help
    p_community_door: float = prob(0.25)  # chance a help-seeker goes to the local community organisation
    p_signpost_take_up: float = prob(0.378)  # weekly chance of acting on a signpost, at trust 1
    referral_expiry_weeks: int = weeks(8)  # a signpost not acted on by then is a lost referral
    p_chase: float = prob(0.15)  # weekly chance a waiting resident chases
    chase_after_weeks: int = weeks(3)
    failure_memory_weeks: int = _ranged(26, 1, 120)  # how long a failure makes later contacts failure demand
    resolved_level: float = prob(0.35)  # need below which a domain counts as resolved
    need_threshold: float = prob(0.6)  # need counted as "high" (unmet need, multiple disadvantage)
    multiple_disadvantage_domains: int = positive(3, 50)
    trust_gain_rate: float = prob(0.08)  # trust's step towards 1 after a good experience
    community_trust_multiplier: float = positive(2.0, 100.0)  # community organisations are trusted faster
    word_of_mouth_rate: float = prob(0.1)  # monthly pull of trust towards social contacts' mean
    initial_trust: float = prob(0.6)
    trust_deprivation_gradient: float = prob(0.4)  # starting trust is lower by this share where most deprived
    social_degree: int = _ranged(8, 2, 200)  # contacts per resident (even)
    p_social_rewire: float = prob(0.1)  # share of contacts outside the neighbourhood
    initial_tie_strength: float = prob(0.05)
    joint_work_min_tie: float = prob(0.1)  # a partner is engaged in joint work only above this tie
    tie_decay_rate: float = prob(0.01)  # weekly decay of a tie with no joint work
    turnover_tie_loss: float = prob(0.3)  # share of a provider's ties lost when key staff leave
    tie_threshold: float = prob(0.25)  # tie counted as a working relationship (collaboration density)
    org_viability_share: float = prob(0.5)  # an organisation closes if its grant falls below this share
    change_weeks: int = weeks(26)  # how long a provider changing its way of working retrains and redesigns
    mobilisation_weeks: int = weeks(13)  # how long a provider taking over a re-let contract mobilises
    results_weight: float = nonneg(1.0, 100.0)  # how much adopters' visible results (relative good closures) weigh in
    # the exposure of their partners; 0 = results are not seen
    # moving in and out (ODD 7.18)
    leave_need_gradient: float = nonneg(1.89, 100.0)  # a resident whose largest need is 1 leaves (1 + this) x as often
    # as one with no need (deaths and moves of people in crisis)
    leave_deprivation_gradient: float = nonneg(0.5, 100.0)  # residents of the most deprived neighbourhoods leave
    # (1 + this) x as often as the least deprived's (the place's average rate is kept)
    newcomer_weeks: int = weeks(26)  # how long a newcomer does not yet know which door is right
    p_wrong_door_newcomer: float = prob(0.6)  # chance a newcomer picks the service for another domain
    # entrenched needs (ODD 7.19)
    entrenched_deprivation_gradient: float = nonneg(2.0, 100.0)  # entrenched disadvantage is (1 + this) x as
    # common in the most deprived neighbourhoods as in the least (the place's average is entrenched_share)
    entrenched_domains: list[str] = field(default_factory=lambda: ["housing", "mental_health", "safety"])
    p_chronic_domain: float = prob(0.468)  # chance each entrenched domain holds a chronic need (entrenched residents)
    chronic_level: float = prob(0.75)  # the level a fully entrenched resident's chronic needs return to
    # crisis that lasts (ODD 7.3)
    spell_domains: list[str] = field(default_factory=lambda: ["housing"])  # a crisis here starts an emergency
    # spell (temporary accommodation) that costs spell_week_cost every week until the need is resolved
    demand_change_domains: list[str] = field(default_factory=lambda: ["housing"])  # where a period's demand
    # changes (uncertainty.demand_change_per_year): the austerity period's figure is for homelessness
    spell_week_cost: float = nonneg(70.2, 1e6)  # GBP per week of an emergency spell borne by this budget
    pressure_relationship_cut: float = prob(0.0375)  # under budget pressure, the share of relationship time cut per
    # unit of shortfall (staff time for joint work is the first thing cut)


@dataclass
class Params:
    """Everything one simulation needs. ``years`` counts evaluation years after ``burn_in_years``."""

    seed: int = nonneg(0, 2**63 - 1)
    # sizes are bounded by the machine, not here: experiments refuse a run whose memory estimate does not fit
    residents: int = positive(10_000, INF)
    years: int = positive(10, INF)
    burn_in_years: int = nonneg(1, INF)
    place: PlaceParams = field(default_factory=PlaceParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    practice: PracticeWays = field(default_factory=PracticeWays)
    infrastructure: InfrastructureStates = field(default_factory=InfrastructureStates)
    uncertainty: UncertaintyParams = field(default_factory=UncertaintyParams)
    relations: RelationsParams = field(default_factory=RelationsParams)


class ParamError(ValueError):
    """A parameter value is out of range; ``key`` is its dotted name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def check_field(key: str, value: Any, meta: Any) -> None:
    if "range" in meta:
        low, high, low_open = meta["range"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(key, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ParamError(key, f"must be a finite number, got {value!r}")
        if low_open and value <= low:
            raise ParamError(key, f"must be > {low:g}, got {value!r}")
        if value < low or value > high:
            opening = "(" if low_open else "["
            bound = f"in {opening}{low:g}, {high:g}]" if high != INF else f">= {low:g}"
            raise ParamError(key, f"must be {bound}, got {value!r}")
    if "choices" in meta and value not in meta["choices"]:
        names = ", ".join("null" if c is None else str(c) for c in meta["choices"])
        raise ParamError(key, f"must be one of {names}; got {value!r}")
    if meta.get("name"):
        check_name(key, value)
    if meta.get("file_name") and value and (not isinstance(value, str) or not NAME.match(value) or ".." in value):
        raise ParamError(key, f"must be a file name in sim/data/places/ (no folders), got {value!r}")


def check_name(key: str, value: Any) -> None:
    """A name that may become part of a file or folder name; raise :class:`ParamError` otherwise."""
    if not isinstance(value, str) or not NAME.match(value) or ".." in value or len(value) > 100:
        raise ParamError(key, f"must be a plain name (letters, digits, '_', '-', '.'; at most 100), got {value!r}")


def leaves(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted key, value, field metadata) of every leaf of a dataclass tree, in declaration order."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from leaves(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value, f.metadata


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check every leaf of a dataclass tree against its metadata; raise :class:`ParamError` at the first bad one."""
    for key, value, meta in leaves(obj, prefix):
        check_field(key, value, meta)


def parse_coupling_links(links: list[str], domains: list[str]) -> list[tuple[int, int, float]]:
    """Parse ``"from -> to: weight"`` strings into (from index, to index, weight) triples."""
    parsed = []
    for i, text in enumerate(links):
        key = f"relations.coupling_links[{i}]"
        try:
            pair, weight_text = str(text).split(":")
            source, target = (s.strip() for s in pair.split("->"))
            weight = float(weight_text)
        except ValueError:
            raise ParamError(key, f"expected 'from -> to: weight', got {text!r}") from None
        for domain in (source, target):
            if domain not in domains:
                raise ParamError(key, f"unknown domain {domain!r} (domains: {', '.join(domains)})")
        if not math.isfinite(weight) or not 0 <= weight <= 100:
            raise ParamError(key, f"weight must be a finite number in [0, 100], got {weight_text.strip()!r}")
        parsed.append((domains.index(source), domains.index(target), weight))
    return parsed


DOMAIN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_DOMAINS = 50  # domains index 8-bit arrays, one service each
BUDGET_MAX = 1e15  # GBP a year: far beyond any place, well inside floating point


def check_provider_names(key: str, names: list[str], domains: list[str]) -> None:
    """Provider names are service domains, ``community`` or ``all``; raise :class:`ParamError` otherwise."""
    for i, name in enumerate(names):
        if name not in domains and name not in PROVIDER_GROUPS:
            raise ParamError(f"{key}[{i}]", f"unknown provider {name!r} (choose from "
                                            f"{', '.join([*domains, *PROVIDER_GROUPS])})")


def validate(params: Params) -> Params:
    """Check every key's range, then the cross-key rules; raise :class:`ParamError` naming the first bad key."""
    check_fields(params)
    rel = params.relations
    if not 1 <= len(rel.domains) <= MAX_DOMAINS or len(set(rel.domains)) != len(rel.domains):
        raise ParamError("relations.domains", f"must be a list of 1 to {MAX_DOMAINS} distinct names")
    for i, domain in enumerate(rel.domains):
        if not isinstance(domain, str) or not DOMAIN.match(domain) or domain in PROVIDER_GROUPS:
            raise ParamError(f"relations.domains[{i}]", "must be a lower-case name (letters, digits, '_'), not "
                                                        f"{' or '.join(PROVIDER_GROUPS)}; got {domain!r}")
    for key in ("first_adopters", "licensed", "protected"):
        check_provider_names(f"scenario.{key}", getattr(params.scenario, key), rel.domains)
    for part in INFRASTRUCTURE_PARTS:
        year = getattr(params.scenario.reform, part)
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or year < 0):
            raise ParamError(f"scenario.reform.{part}", f"must be a year >= 0 or null (never), got {year!r}")
    parse_coupling_links(rel.coupling_links, rel.domains)
    for key in ("entrenched_domains", "spell_domains", "demand_change_domains"):
        for i, domain in enumerate(getattr(rel, key)):
            if domain not in rel.domains:
                raise ParamError(f"relations.{key}[{i}]", f"unknown domain {domain!r} (domains: "
                                                          f"{', '.join(rel.domains)})")
    if rel.social_degree % 2:
        raise ParamError("relations.social_degree", f"must be even, got {rel.social_degree}")
    _check_budget(params)
    from .place import count_neighbourhoods  # place.py imports this module

    neighbourhoods = count_neighbourhoods(params.place)
    if params.residents < neighbourhoods:
        raise ParamError("residents", f"must be at least the number of neighbourhoods ({neighbourhoods}) "
                                      f"of place {params.place.name!r}")
    return params


def _check_budget(params: Params) -> None:
    """The yearly budget must stay a number a ledger can hold over the whole run (compounding can overflow)."""
    world = params.uncertainty
    if world.budget_per_resident <= 0 or world.budget_change_per_year <= 0:
        return
    years = params.years + params.burn_in_years
    log_peak = (math.log10(world.budget_per_resident) + math.log10(params.residents)
                + years * math.log10(1.0 + world.budget_change_per_year))
    if log_peak > math.log10(BUDGET_MAX):
        raise ParamError("uncertainty.budget_change_per_year",
                         f"compounds the budget past {BUDGET_MAX:.0e} GBP a year within {years} years "
                         f"(about 1e{log_peak:.0f}); use a smaller change or fewer years")
