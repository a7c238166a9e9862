"""Per-criterion training signals (shared/_signals.py): exact cases and properties (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared import CriterionResult, GradeItem, GradeResponse, ItemResult
from shared._signals import category_met_rates, flip_rate, flipped_criteria, pitfalls_per_item, signals
from shared.rewards import log_metrics

CRITS = [("Essential Criteria: Advises an ECG.", 5), ("Optional Criteria: Mentions diet.", 1), ("Avoids panic.", -2)]


def _result(i: int, met: list[bool | None]) -> ItemResult:
    criteria = [
        CriterionResult(
            criterion=text,
            points=pts,
            category="essential" if "Essential" in text else "optional" if "Optional" in text else None,
            met=m,
            p_met=None if m is None else float(m),
        )
        for (text, pts), m in zip(CRITS, met, strict=True)
    ]
    return ItemResult(id=str(i), reward=1.0, reward_std=0.0, criteria=criteria)


def _items(n: int, groups: int) -> list[GradeItem]:
    rubric = [{"criterion": t, "points": p} for t, p in CRITS]
    return [
        GradeItem(id=str(i), group_id=f"g{i % groups}", prompt="q", response=f"r{i}", rubric=rubric) for i in range(n)
    ]


def test_exact_case() -> None:
    items = _items(4, 2)  # groups: g0 = items 0, 2; g1 = items 1, 3
    results = [
        _result(0, [True, False, True]),
        _result(1, [True, True, False]),
        _result(2, [False, False, True]),
        _result(3, [True, None, False]),
    ]
    assert category_met_rates(results) == {"essential": 0.75, "optional": 1 / 3, "pitfall": 0.5}
    assert pitfalls_per_item(results) == 0.5  # the pitfall was triggered by items 0 and 2
    assert flipped_criteria(items, results) == {"Essential Criteria: Advises an ECG.": 1}  # only in g0
    assert flip_rate(items, results) == 1 / 6  # 1 of the 6 (group, criterion) pairs with a verdict
    logged: dict[str, float] = {}
    resp = GradeResponse.model_validate(
        {
            "results": [r.model_dump() for r in results],
            "scheme": "hybrid",
            "scheme_params": {},
            "model": "m",
            "mode": "logprob",
        }
    )
    log_metrics(resp, 0.1, logged.__setitem__, items)
    assert logged["rubric/criteria/met_rate/essential"] == 0.75
    assert logged["rubric/criteria/pitfalls_per_item"] == 0.5 and logged["rubric/criteria/flip_rate"] == 1 / 6


verdict = st.one_of(st.none(), st.booleans())


@given(st.lists(st.lists(verdict, min_size=3, max_size=3), min_size=1, max_size=24), st.integers(1, 6))
def test_properties(verdicts: list[list[bool | None]], groups: int) -> None:
    items = _items(len(verdicts), groups)
    results = [_result(i, v) for i, v in enumerate(verdicts)]
    s = signals(items, results)
    assert all(0.0 <= v <= 1.0 for k, v in s.items() if "met_rate" in k or "flip_rate" in k)
    assert 0.0 <= s["rubric/criteria/pitfalls_per_item"] <= 1.0
    same = [_result(i, verdicts[0]) for i in range(len(verdicts))]  # every completion judged alike: no flips
    assert flip_rate(items, same) == 0.0 and not flipped_criteria(items, same)
    one_group = _items(len(verdicts), 1)
    assert sum(flipped_criteria(one_group, results).values()) <= 3
