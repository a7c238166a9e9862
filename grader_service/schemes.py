"""Reward schemes: pure functions from criterion verdicts to a scalar reward.

Notation (README, "Reward schemes"): for points p_i and verdicts m_i ∈ {0, 1},
s = Σ_{p_i>0} p_i m_i / Σ_{p_i>0} p_i (points-weighted share of positive criteria met),
ρ = Σ_{p_i<0} |p_i| m_i / Σ_{p_i<0} |p_i| (share of pitfall weight met; 0 without pitfalls),
n = number of criteria. Every scheme scores a *matrix* of verdict vectors at once so that the
expectation under soft judgements (exact enumeration or Monte Carlo) is one vectorised call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shared import Category, Criterion

# ---------------------------------------------------------------- parameters


class _Params(BaseModel):
    # finite and bounded: a constant of 1e308 or Infinity would make every reward NaN or wrong
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class HealthBenchParams(_Params):
    clip: bool = Field(False, description="clip each item's score to [0, 1] (HealthBench clips only the mean)")


class RarExplicitParams(_Params):
    weights: Literal["auto", "category", "points"] = Field(
        "auto", description="'auto': by category when every criterion has one, else by |points|"
    )
    essential: float = Field(1.0, ge=0, le=1e3)
    important: float = Field(0.7, ge=0, le=1e3)
    optional: float = Field(0.3, ge=0, le=1e3)
    pitfall: float = Field(0.9, ge=0, le=1e3)


class RarImplicitParams(_Params):
    pass


class HybridParams(_Params):
    coverage_weight: float = Field(15.0, ge=0, le=1e6, description="multiplies s")
    pitfall_weight: float = Field(4.5, ge=0, le=1e6, description="multiplies ρ")
    bonus: float = Field(5.0, ge=0, le=1e6, description="added when every positive criterion is met and no pitfall is")


class ComplexityParams(_Params):
    scale: float = Field(20.0, ge=0, le=1e6)
    exponent: float = Field(1.2, ge=0.01, le=100)
    pitfall_penalty: float = Field(0.5, ge=0, le=1e3, description="ŝ = max(0, s − pitfall_penalty·ρ)")
    complexity_coef: float = Field(0.2, ge=0, le=1e3)
    complexity_ref: float = Field(
        25.0, ge=1, le=1e6, description="n at which the complexity factor reaches 1+coef (ln(1+n)/ln(1+ref))"
    )
    max_reward: float = Field(25.0, gt=0, le=1e6)


# ---------------------------------------------------------------- typed input


@dataclass(frozen=True)
class ScoringRubric:
    """The numbers a scheme needs from a rubric, as arrays."""

    points: np.ndarray  # (n,)
    categories: tuple[Category | None, ...]

    @classmethod
    def from_criteria(cls, criteria: Sequence[Criterion]) -> ScoringRubric:
        return cls(
            points=np.asarray([c.points for c in criteria], dtype=float),
            categories=tuple(c.category for c in criteria),
        )

    @property
    def n(self) -> int:
        return int(self.points.shape[0])

    @property
    def positive(self) -> np.ndarray:
        return self.points > 0

    @property
    def negative(self) -> np.ndarray:
        return self.points < 0


class RubricNotScorable(ValueError):
    """The rubric cannot be scored by this scheme (e.g. no positive criterion)."""


def _positive_total(r: ScoringRubric) -> float:
    total = float(r.points[r.positive].sum())
    if total <= 0:
        raise RubricNotScorable("the rubric has no criterion with positive points")
    return total


def coverage(met: np.ndarray, r: ScoringRubric) -> np.ndarray:
    """s for each row of `met` (shape (m, n))."""
    pos = np.where(r.positive, r.points, 0.0)
    return met @ pos / _positive_total(r)


def pitfall_share(met: np.ndarray, r: ScoringRubric) -> np.ndarray:
    """ρ for each row of `met`; 0 when the rubric has no pitfall."""
    neg = np.where(r.negative, -r.points, 0.0)
    total = float(neg.sum())
    if total == 0:
        return np.zeros(met.shape[0])
    return met @ neg / total


# ---------------------------------------------------------------- linear schemes


def healthbench_linear(r: ScoringRubric, params: HealthBenchParams) -> tuple[float, np.ndarray]:
    """reward = a + c·m: Σ points of met criteria / Σ positive points."""
    return 0.0, r.points / _positive_total(r)


def rar_weights(r: ScoringRubric, params: RarExplicitParams) -> np.ndarray:
    mode = params.weights
    if mode == "auto":
        mode = "category" if all(c is not None for c in r.categories) else "points"
    if mode == "points":
        return np.abs(r.points)
    by_cat = {
        Category.essential: params.essential,
        Category.important: params.important,
        Category.optional: params.optional,
        Category.pitfall: params.pitfall,
    }
    missing = [i for i, c in enumerate(r.categories) if c is None]
    if missing:
        raise RubricNotScorable(f"weights='category' but criteria {missing} have no category")
    return np.asarray([by_cat[c] for c in r.categories], dtype=float)


def rar_explicit_linear(r: ScoringRubric, params: RarExplicitParams) -> tuple[float, np.ndarray]:
    """Σ w_j c_j / Σ w_j with c_j = m_j (positive) or 1 − m_j (pitfall): a pitfall avoided earns its weight."""
    w = rar_weights(r, params)
    total = float(w.sum())
    if total <= 0:
        raise RubricNotScorable("rar_explicit weights sum to zero")
    sign = np.where(r.negative, -1.0, 1.0)
    return float(w[r.negative].sum()) / total, sign * w / total


def _linear(fn: Callable[[ScoringRubric, Any], tuple[float, np.ndarray]]) -> Callable[..., np.ndarray]:
    def score(met: np.ndarray, r: ScoringRubric, params: Any) -> np.ndarray:
        a, c = fn(r, params)
        return a + met @ c

    return score


def healthbench_score(met: np.ndarray, r: ScoringRubric, params: HealthBenchParams) -> np.ndarray:
    a, c = healthbench_linear(r, params)
    out = a + met @ c
    return np.clip(out, 0.0, 1.0) if params.clip else out


rar_explicit_score = _linear(rar_explicit_linear)


# ---------------------------------------------------------------- seed-paper schemes


# ---------------------------------------------------------------- the same schemes, from the two sums
#
# Every non-linear scheme depends on the verdicts only through P = Σ positive points met and
# N = Σ |pitfall points| met: s = P / ΣP, ρ = N / ΣN, "every positive met" is P = ΣP (all positive
# points are > 0) and "no pitfall met" is N = 0. `*_from_sums` score arrays of (P, N) pairs; the exact
# expectation then needs only the distributions of P and N (see `sum_distribution`).


def _shares(pos_met: np.ndarray, neg_met: np.ndarray, r: ScoringRubric) -> tuple[np.ndarray, np.ndarray]:
    total_neg = float(-r.points[r.negative].sum())
    rho = neg_met / total_neg if total_neg > 0 else np.zeros_like(neg_met)
    return pos_met / _positive_total(r), rho


def hybrid_from_sums(pos_met: np.ndarray, neg_met: np.ndarray, r: ScoringRubric, params: HybridParams) -> np.ndarray:
    s, rho = _shares(pos_met, neg_met, r)
    total_pos = _positive_total(r)
    complete = (pos_met >= total_pos * (1 - 1e-12)) & (neg_met <= 0)
    return np.maximum(0.0, params.coverage_weight * s - params.pitfall_weight * rho) + params.bonus * complete


def complexity_from_sums(
    pos_met: np.ndarray, neg_met: np.ndarray, r: ScoringRubric, params: ComplexityParams
) -> np.ndarray:
    s, rho = _shares(pos_met, neg_met, r)
    s_hat = np.maximum(0.0, s - params.pitfall_penalty * rho)
    return np.clip(params.scale * s_hat**params.exponent * complexity_factor(r.n, params), 0.0, params.max_reward)


def healthbench_from_sums(
    pos_met: np.ndarray, neg_met: np.ndarray, r: ScoringRubric, params: HealthBenchParams
) -> np.ndarray:
    out = (pos_met - neg_met) / _positive_total(r)
    return np.clip(out, 0.0, 1.0) if params.clip else out


def hybrid_score(met: np.ndarray, r: ScoringRubric, params: HybridParams) -> np.ndarray:
    """max(0, 15·s − 4.5·ρ) + 5·[all positive met ∧ no pitfall met]; range [0, 20] at defaults."""
    s = coverage(met, r)
    rho = pitfall_share(met, r)
    all_pos = met[:, r.positive].all(axis=1)
    no_pit = ~met[:, r.negative].astype(bool).any(axis=1)
    base = np.maximum(0.0, params.coverage_weight * s - params.pitfall_weight * rho)
    return base + params.bonus * (all_pos & no_pit)


def complexity_factor(n: int, params: ComplexityParams) -> float:
    return 1.0 + params.complexity_coef * math.log(1 + n) / math.log(1 + params.complexity_ref)


def complexity_score(met: np.ndarray, r: ScoringRubric, params: ComplexityParams) -> np.ndarray:
    """20·ŝ^1.2·(1 + 0.2·ln(1+n)/ln 26), ŝ = max(0, s − 0.5·ρ), clipped to [0, 25]."""
    s_hat = np.maximum(0.0, coverage(met, r) - params.pitfall_penalty * pitfall_share(met, r))
    raw = params.scale * s_hat**params.exponent * complexity_factor(r.n, params)
    return np.clip(raw, 0.0, params.max_reward)


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Scheme:
    name: str
    params: type[_Params]
    score: Callable[[np.ndarray, ScoringRubric, Any], np.ndarray] | None
    linear: Callable[[ScoringRubric, Any], tuple[float, np.ndarray]] | None
    description: str
    reward_range: tuple[float | None, float | None]
    per_criterion: bool = True
    from_sums: Callable[[np.ndarray, np.ndarray, ScoringRubric, Any], np.ndarray] | None = None

    def linear_for(self, params: Any) -> Callable[[ScoringRubric, Any], tuple[float, np.ndarray]] | None:
        if self.name == "healthbench" and params.clip:
            return None
        return self.linear


SCHEMES: dict[str, Scheme] = {
    "healthbench": Scheme(
        "healthbench",
        HealthBenchParams,
        healthbench_score,
        healthbench_linear,
        "Σ points of met criteria / Σ positive points (negative when pitfalls outweigh)",
        (None, 1.0),
        from_sums=healthbench_from_sums,
    ),
    "rar_explicit": Scheme(
        "rar_explicit",
        RarExplicitParams,
        rar_explicit_score,
        rar_explicit_linear,
        "Rubrics as Rewards, explicit: Σ w_j c_j / Σ w_j, a pitfall avoided earns its weight",
        (0.0, 1.0),
    ),
    "rar_implicit": Scheme(
        "rar_implicit",
        RarImplicitParams,
        None,
        None,
        "Rubrics as Rewards, implicit: one Likert judgement (1-10) of the whole rubric → (rating − 1)/9",
        (0.0, 1.0),
        per_criterion=False,
    ),
    "hybrid": Scheme(
        "hybrid",
        HybridParams,
        hybrid_score,
        None,
        "seed paper: max(0, 15·s − 4.5·ρ) + 5·[all positive met and no pitfall met]",
        (0.0, 20.0),
        from_sums=hybrid_from_sums,
    ),
    "complexity": Scheme(
        "complexity",
        ComplexityParams,
        complexity_score,
        None,
        "seed paper: 20·ŝ^1.2·(1 + 0.2·ln(1+n)/ln 26), ŝ = max(0, s − 0.5·ρ), clipped to [0, 25]",
        (0.0, 25.0),
        from_sums=complexity_from_sums,
    ),
}


def parse_params(scheme: str, raw: dict[str, Any]) -> _Params:
    """Validate scheme parameters; raises pydantic.ValidationError naming the field."""
    return SCHEMES[scheme].params.model_validate(raw)


# ---------------------------------------------------------------- expectation under soft verdicts


@dataclass(frozen=True)
class RewardEstimate:
    mean: float
    std: float
    method: Literal["exact", "closed_form", "sums", "enumeration", "monte_carlo"]
    stderr: float | None = None  # Monte Carlo only: the standard error of `mean`


def hard_reward(met: Sequence[bool], r: ScoringRubric, scheme: str, params: Any) -> float:
    spec = SCHEMES[scheme]
    assert spec.score is not None, f"{scheme} is not scored per criterion"
    return float(spec.score(np.asarray([met], dtype=float), r, params)[0])


MAX_SUM_STATES = 200_000  # distinct values a sum may take before the exact method gives way to Monte Carlo
_SCALES = (1, 2, 4, 5, 10, 20, 100, 1000)


def sum_distribution(weights: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact distribution of Σ w_i m_i for independent m_i ~ Bernoulli(p_i), w_i > 0, as (values, probs)
    with probs > 0; None when it would take more than MAX_SUM_STATES values.

    Real rubrics use whole points (or halves, tenths): on that grid it is a convolution over at most
    Σ w values; otherwise a dictionary of the sums reached, which stays small when weights repeat."""
    for scale in _SCALES:
        scaled = weights * scale
        ints = np.rint(scaled)
        on_grid = np.all(ints >= 1) and np.all(np.abs(scaled - ints) <= 1e-9 * scaled)
        if on_grid and ints.sum() <= MAX_SUM_STATES:  # every weight a whole number of grid steps, none lost
            dist = np.zeros(int(ints.sum()) + 1)
            dist[0] = 1.0
            top = 0
            for w, q in zip(ints.astype(int), p, strict=True):
                if q <= 0.0 or w == 0:
                    continue
                shifted = dist[: top + 1] * q  # a copy: new[i] = old[i](1 − q) + old[i − w] q
                dist[: top + 1] *= 1.0 - q
                dist[w : top + w + 1] += shifted
                top += w
            keep = np.flatnonzero(dist[: top + 1] > 0)
            return keep / scale, dist[keep]
    states: dict[float, float] = {0.0: 1.0}
    for w, q in zip(weights, p, strict=True):
        if q <= 0.0:
            continue
        nxt: dict[float, float] = {}
        for value, prob in states.items():
            if q < 1.0:
                nxt[value] = nxt.get(value, 0.0) + prob * (1.0 - q)
            key = value + float(w)  # exact float sums: equal subsets added in the same order meet again
            nxt[key] = nxt.get(key, 0.0) + prob * q
        states = nxt
        if len(states) > MAX_SUM_STATES:
            return None
    values = np.fromiter(states.keys(), dtype=float, count=len(states))
    probs = np.fromiter(states.values(), dtype=float, count=len(states))
    keep = probs > 0
    return values[keep], probs[keep]


def _from_sums(
    p: np.ndarray, r: ScoringRubric, fn: Callable[..., np.ndarray], params: Any
) -> tuple[float, float] | None:
    pos = sum_distribution(r.points[r.positive], p[r.positive])
    neg = sum_distribution(-r.points[r.negative], p[r.negative])
    if pos is None or neg is None or pos[0].size * neg[0].size > MAX_SUM_STATES * 4:
        return None
    (pv, pp), (nv, npr) = pos, neg
    pos_met, neg_met = np.meshgrid(pv, nv, indexing="ij")
    values = fn(pos_met, neg_met, r, params)
    weights = np.outer(pp, npr)
    mean = float((weights * values).sum())
    var = float((weights * (values - mean) ** 2).sum())
    return mean, math.sqrt(max(var, 0.0))


def expected_reward(
    p_met: Sequence[float],
    r: ScoringRubric,
    scheme: str,
    params: Any,
    *,
    enum_max: int = 12,
    mc_samples: int = 8192,
    seed: int = 0,
) -> RewardEstimate:
    """Mean and std of the reward when criterion i is met independently with probability p_met[i].

    Exact in every case real rubrics produce: closed form for the linear schemes, the joint distribution
    of the two point sums for the others (any number of criteria). Enumeration and Monte Carlo remain for
    schemes without a sums form and for sums too spread out to tabulate (the latter reports its error)."""
    spec = SCHEMES[scheme]
    assert spec.score is not None, f"{scheme} is not scored per criterion"
    p = np.clip(np.asarray(p_met, dtype=float), 0.0, 1.0)
    uncertain = np.flatnonzero((p > 0) & (p < 1))
    if uncertain.size == 0:
        return RewardEstimate(float(spec.score(p[None, :], r, params)[0]), 0.0, "exact")
    linear = spec.linear_for(params)
    if linear is not None:
        a, c = linear(r, params)
        mean = a + float(p @ c)
        var = float(np.sum(c**2 * p * (1 - p)))
        return RewardEstimate(mean, math.sqrt(max(var, 0.0)), "closed_form")
    if spec.from_sums is not None and (got := _from_sums(p, r, spec.from_sums, params)) is not None:
        return RewardEstimate(got[0], got[1], "sums")
    base = (p >= 1).astype(float)
    k = uncertain.size
    if k <= enum_max:
        bits = ((np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1).astype(float)
        pu = p[uncertain]
        weights = np.prod(np.where(bits == 1, pu, 1 - pu), axis=1)
        method: Literal["enumeration", "monte_carlo"] = "enumeration"
    else:
        rng = np.random.default_rng(seed)
        bits = (rng.random((mc_samples, k)) < p[uncertain]).astype(float)
        weights = np.full(mc_samples, 1.0 / mc_samples)
        method = "monte_carlo"
    met = np.repeat(base[None, :], bits.shape[0], axis=0)
    met[:, uncertain] = bits
    values = spec.score(met, r, params)
    mean = float(weights @ values)
    var = float(weights @ (values - mean) ** 2)
    std = math.sqrt(max(var, 0.0))
    return RewardEstimate(mean, std, method, std / math.sqrt(mc_samples) if method == "monte_carlo" else None)


def likert_reward(rating_probs: dict[int, float]) -> RewardEstimate:
    """rar_implicit: (rating − 1)/9 under a distribution over ratings 1..10."""
    total = sum(rating_probs.values())
    if total <= 0:
        raise RubricNotScorable("empty rating distribution")
    values = np.asarray([(k - 1) / 9 for k in rating_probs])
    w = np.asarray(list(rating_probs.values())) / total
    mean = float(w @ values)
    std = math.sqrt(max(float(w @ (values - mean) ** 2), 0.0))
    return RewardEstimate(mean, std, "exact" if std == 0 else "closed_form")
