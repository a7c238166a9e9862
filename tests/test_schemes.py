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


def test_soft_hybrid_hand_value() -> None:
    # only B uncertain (p=0.5); A, D met, C avoided → 20 with B met, 15*(6/9) otherwise
    est = expected_reward([1, 0.5, 0, 1], R, "hybrid", HybridParams())
    assert est.method == "sums"
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


def brute_force(p: list[float], r: ScoringRubric, scheme: str, params: object) -> tuple[float, float]:
    """Mean and std over every one of the 2^n verdict vectors, vectorised (an independent computation)."""
    n = r.n
    bits = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(float)
    pa = np.asarray(p)
    w = np.prod(np.where(bits == 1, pa, 1 - pa), axis=1)
    values = SCHEMES[scheme].score(bits, r, params)
    mean = float(w @ values)
    return mean, math.sqrt(max(float(w @ (values - mean) ** 2), 0.0))


# whole points, halves and awkward fractions (0.3 is not a binary fraction), as real rubrics use them
weights_st = st.one_of(
    st.integers(1, 10).map(float),
    st.integers(1, 20).map(lambda x: x / 2),
    st.sampled_from([0.3, 0.7, 1.1, 2.35]),
)


@st.composite
def wide_rubric(draw: st.DrawFn, max_n: int = 16) -> tuple[ScoringRubric, list[float]]:
    n = draw(st.integers(13, max_n))
    pts = [draw(weights_st) * (-1 if draw(st.booleans()) and i > 0 else 1) for i in range(n)]
    p = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    return ScoringRubric.from_criteria([Criterion(criterion=f"c{i}", points=x) for i, x in enumerate(pts)]), p


@settings(max_examples=40, deadline=None)
@given(wide_rubric(), st.sampled_from(["hybrid", "complexity", "healthbench"]), st.booleans())
def test_exact_beyond_enumeration_up_to_16_criteria(
    rp: tuple[ScoringRubric, list[float]], scheme: str, clip: bool
) -> None:
    """13-16 uncertain criteria: once Monte Carlo (off by ~1% of a std), now exact against brute force."""
    r, p = rp
    params = HealthBenchParams(clip=clip) if scheme == "healthbench" else SCHEMES[scheme].params()
    est = expected_reward(p, r, scheme, params)
    mean, std = brute_force(p, r, scheme, params)
    assert est.method in ("sums", "closed_form", "exact") and est.stderr is None
    assert est.mean == pytest.approx(mean, rel=1e-9, abs=1e-9)
    assert est.std == pytest.approx(std, rel=1e-7, abs=1e-7)


def test_48_criteria_agree_with_monte_carlo_and_are_fast() -> None:
    rng = np.random.default_rng(0)
    pts = [float(x) for x in rng.integers(1, 11, 48)]
    for i in range(0, 48, 5):
        pts[i] = -pts[i]
    r = ScoringRubric.from_criteria([Criterion(criterion=f"c{i}", points=x) for i, x in enumerate(pts)])
    p = list(rng.uniform(0.02, 0.98, 48))
    for scheme in ("hybrid", "complexity"):
        est = expected_reward(p, r, scheme, SCHEMES[scheme].params())
        assert est.method == "sums"
        # an independent estimate: 400k sampled verdict vectors
        bits = (rng.random((400_000, 48)) < np.asarray(p)).astype(float)
        values = SCHEMES[scheme].score(bits, r, SCHEMES[scheme].params())
        se = values.std() / math.sqrt(len(values))
        assert est.mean == pytest.approx(values.mean(), abs=5 * se)
        assert est.std == pytest.approx(values.std(), rel=0.01)


def test_sum_distribution_is_exact_on_fractional_points() -> None:
    from grader_service.schemes import sum_distribution

    values, probs = sum_distribution(np.asarray([0.3, 0.3, 1.1]), np.asarray([0.5, 0.5, 0.25]))
    got = dict(zip(np.round(values, 9), probs, strict=True))
    assert got == pytest.approx({0.0: 0.1875, 0.3: 0.375, 0.6: 0.1875, 1.1: 0.0625, 1.4: 0.125, 1.7: 0.0625})


def test_tiny_weights_are_not_rounded_away() -> None:
    r = ScoringRubric.from_criteria([Criterion(criterion="a", points=5e-324), Criterion(criterion="b", points=-1e-300)])
    est = expected_reward([0.4, 0.0], r, "hybrid", HybridParams())
    assert est.mean == pytest.approx(0.4 * 20 + 0.6 * 0)  # met: 15·1 + bonus 5; not met: 0
    assert est.mean == pytest.approx(brute_force([0.4, 0.0], r, "hybrid", HybridParams())[0])


def test_monte_carlo_is_left_only_for_sums_too_spread_out_and_reports_its_error() -> None:
    """Irregular points on no common grid: the sums take too many values to tabulate."""
    from grader_service import schemes

    rng = np.random.default_rng(1)
    pts = [float(x) for x in rng.uniform(0.5, 9.5, 30)]  # generic reals: 2^30 distinct sums
    r = ScoringRubric.from_criteria([Criterion(criterion=f"c{i}", points=x) for i, x in enumerate(pts)])
    p = list(rng.uniform(0.1, 0.9, 30))
    est = schemes.expected_reward(p, r, "hybrid", HybridParams(), mc_samples=20000, seed=3)
    assert est.method == "monte_carlo" and est.stderr == pytest.approx(est.std / math.sqrt(20000))
    # reproducible for a given seed
    assert schemes.expected_reward(p, r, "hybrid", HybridParams(), mc_samples=20000, seed=3) == est
