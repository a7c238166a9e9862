"""Reward math: hand-computed values for every scheme, and properties checked with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader_service.schemes import (
    SCHEMES,
    ComplexityParams,
    HealthBenchParams,
    HybridParams,
    RarExplicitParams,
    RubricNotScorable,
    ScoringRubric,
    expected_reward,
    hard_reward,
    likert_reward,
    parse_params,
)
from shared import Criterion

# A: essential +5 met, B: important +3 not met, C: pitfall -2 met, D: optional +1 met
RUBRIC = [
    Criterion(criterion="Essential Criteria: a", points=5),
    Criterion(criterion="Important Criteria: b", points=3),
    Criterion(criterion="Pitfall Criteria: c", points=-2),
    Criterion(criterion="Optional Criteria: d", points=1),
]
MET = [True, False, True, True]
R = ScoringRubric.from_criteria(RUBRIC)
S = 6 / 9  # (5 + 1) / (5 + 3 + 1)
RHO = 1.0  # the only pitfall is met


def test_healthbench_hand_value() -> None:
    assert hard_reward(MET, R, "healthbench", HealthBenchParams()) == pytest.approx((5 + 1 - 2) / 9)


def test_healthbench_negative_and_clip() -> None:
    met = [False, False, True, False]
    assert hard_reward(met, R, "healthbench", HealthBenchParams()) == pytest.approx(-2 / 9)
    assert hard_reward(met, R, "healthbench", HealthBenchParams(clip=True)) == 0.0


def test_rar_explicit_by_category_hand_value() -> None:
    # weights 1.0, 0.7, 0.9, 0.3; pitfall met earns nothing, B not met earns nothing
    expected = (1.0 + 0.3) / (1.0 + 0.7 + 0.9 + 0.3)
    assert hard_reward(MET, R, "rar_explicit", RarExplicitParams()) == pytest.approx(expected)


def test_rar_explicit_pitfall_avoided_earns_weight() -> None:
    met = [True, False, False, True]
    expected = (1.0 + 0.9 + 0.3) / 2.9
    assert hard_reward(met, R, "rar_explicit", RarExplicitParams()) == pytest.approx(expected)


def test_rar_explicit_by_points_when_a_category_is_missing() -> None:
    rubric = [Criterion(criterion="plain positive", points=4), *RUBRIC[1:]]
    assert rubric[0].category is None
    r = ScoringRubric.from_criteria(rubric)
    expected = (4 + 1) / (4 + 3 + 2 + 1)  # auto → |points|
    assert hard_reward(MET, r, "rar_explicit", RarExplicitParams()) == pytest.approx(expected)
    with pytest.raises(RubricNotScorable):
        hard_reward(MET, r, "rar_explicit", RarExplicitParams(weights="category"))


def test_hybrid_hand_values() -> None:
    assert hard_reward(MET, R, "hybrid", HybridParams()) == pytest.approx(15 * S - 4.5 * RHO)
    # all positives met, pitfall avoided: 15 + 5 bonus
    assert hard_reward([True, True, False, True], R, "hybrid", HybridParams()) == pytest.approx(20.0)
    # all positives met but the pitfall too: no bonus, 15 - 4.5
    assert hard_reward([True, True, True, True], R, "hybrid", HybridParams()) == pytest.approx(10.5)
    # floor at zero
    assert hard_reward([False, False, True, False], R, "hybrid", HybridParams()) == 0.0


def test_complexity_hand_values() -> None:
    factor = 1 + 0.2 * math.log(1 + 4) / math.log(26)
    s_hat = S - 0.5 * RHO
    assert hard_reward(MET, R, "complexity", ComplexityParams()) == pytest.approx(20 * s_hat**1.2 * factor)
    assert hard_reward([True, True, False, True], R, "complexity", ComplexityParams()) == pytest.approx(20 * factor)
    # many criteria: clipped at 25
    big = ScoringRubric.from_criteria([Criterion(criterion=f"c{i}", points=1) for i in range(400)])
    assert hard_reward([True] * 400, big, "complexity", ComplexityParams()) == 25.0


def test_soft_linear_closed_form_hand_value() -> None:
    p = [0.5, 0.5, 0.0, 1.0]
    est = expected_reward(p, R, "healthbench", HealthBenchParams())
    assert est.method == "closed_form"
    assert est.mean == pytest.approx((2.5 + 1.5 + 1) / 9)
    assert est.std == pytest.approx(math.sqrt((5 / 9) ** 2 * 0.25 + (3 / 9) ** 2 * 0.25))


def test_soft_hybrid_enumeration_hand_value() -> None:
    # only B uncertain (p=0.5); A, D met, C avoided → 20 with B met, 15*(6/9) otherwise
    est = expected_reward([1, 0.5, 0, 1], R, "hybrid", HybridParams())
    assert est.method == "enumeration"
    assert est.mean == pytest.approx(0.5 * 20 + 0.5 * 10)
    assert est.std == pytest.approx(5.0)


def test_likert_hand_value() -> None:
    est = likert_reward({6: 0.75, 5: 0.25})
    assert est.mean == pytest.approx(0.75 * 5 / 9 + 0.25 * 4 / 9)
    assert est.std == pytest.approx(math.sqrt(0.75 * 0.25) / 9)


def test_no_positive_criterion_is_not_scorable() -> None:
    r = ScoringRubric.from_criteria([Criterion(criterion="bad", points=-1)])
    for scheme in ("healthbench", "hybrid", "complexity"):
        with pytest.raises(RubricNotScorable):
            hard_reward([True], r, scheme, SCHEMES[scheme].params())


def test_params_reject_unknown_and_out_of_range() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        parse_params("hybrid", {"coverage_wieght": 3})
    with pytest.raises(ValidationError):
        parse_params("complexity", {"exponent": -1})


# ---------------------------------------------------------------- properties

points_st = st.lists(st.one_of(st.integers(1, 10), st.integers(-10, -1)).map(float), min_size=1, max_size=10).filter(
    lambda ps: any(p > 0 for p in ps)
)


@st.composite
def rubric_and_p(draw: st.DrawFn) -> tuple[ScoringRubric, list[float]]:
    pts = draw(points_st)
    p = draw(st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.8, 1.0]), min_size=len(pts), max_size=len(pts)))
    crit = [Criterion(criterion=f"c{i}", points=x) for i, x in enumerate(pts)]
    return ScoringRubric.from_criteria(crit), p


PER_CRITERION = ["healthbench", "rar_explicit", "hybrid", "complexity"]


@settings(max_examples=150, deadline=None)
@given(rubric_and_p(), st.sampled_from(PER_CRITERION))
def test_hard_verdicts_have_zero_std_and_stay_in_range(rp: tuple[ScoringRubric, list[float]], scheme: str) -> None:
    r, p = rp
    hard = [1.0 if x >= 0.5 else 0.0 for x in p]
    est = expected_reward(hard, r, scheme, SCHEMES[scheme].params())
    assert est.std == 0.0
    lo, hi = SCHEMES[scheme].reward_range
    assert (lo is None or est.mean >= lo - 1e-9) and (hi is None or est.mean <= hi + 1e-9)


@settings(max_examples=150, deadline=None)
@given(rubric_and_p(), st.sampled_from(PER_CRITERION))
def test_expectation_matches_brute_force(rp: tuple[ScoringRubric, list[float]], scheme: str) -> None:
    r, p = rp
    params = SCHEMES[scheme].params()
    est = expected_reward(p, r, scheme, params)
    # brute force over all 2^n verdict vectors
    n = r.n
    total = second = 0.0
    for mask in range(2**n):
        met = [(mask >> i) & 1 for i in range(n)]
        w = math.prod(p[i] if met[i] else 1 - p[i] for i in range(n))
        if w == 0:
            continue
        v = hard_reward([bool(m) for m in met], r, scheme, params)
        total += w * v
        second += w * v * v
    assert est.mean == pytest.approx(total, abs=1e-9)
    assert est.std == pytest.approx(math.sqrt(max(second - total**2, 0)), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(rubric_and_p(), st.sampled_from(PER_CRITERION), st.data())
def test_meeting_more_positive_or_fewer_pitfalls_never_lowers_reward(
    rp: tuple[ScoringRubric, list[float]], scheme: str, data: st.DataObject
) -> None:
    r, p = rp
    met = [x >= 0.5 for x in p]
    i = data.draw(st.integers(0, r.n - 1))
    better = list(met)
    better[i] = r.points[i] > 0  # meet a positive criterion, or avoid a pitfall
    params = SCHEMES[scheme].params()
    assert hard_reward(better, r, scheme, params) >= hard_reward(met, r, scheme, params) - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.integers(13, 16), st.integers(0, 2**31 - 1))
def test_monte_carlo_close_to_truth_beyond_enumeration(n: int, seed: int) -> None:
    crit = [Criterion(criterion=f"c{i}", points=(-2.0 if i % 4 == 3 else 3.0)) for i in range(n)]
    r = ScoringRubric.from_criteria(crit)
    rng = np.random.default_rng(seed)
    p = list(rng.uniform(0.05, 0.95, n))
    exact = expected_reward(p, r, "hybrid", HybridParams(), enum_max=16)
    mc = expected_reward(p, r, "hybrid", HybridParams(), enum_max=12, mc_samples=20000, seed=seed)
    assert exact.method == "enumeration" and mc.method == "monte_carlo"
    assert mc.mean == pytest.approx(exact.mean, abs=4 * exact.std / math.sqrt(20000) + 1e-6)
    # reproducible for a given seed
    assert expected_reward(p, r, "hybrid", HybridParams(), enum_max=12, mc_samples=20000, seed=seed) == mc
