"""Rubric loaders on our own fixtures and on the real records of ../shared/data (skipped when absent)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shared import (
    Category,
    Criterion,
    RubricFormatError,
    detect_format,
    load_rubric,
    prompt_from_record,
    rubric_from_record,
)
from tests.conftest import shared_records

RAR = {
    "question": "Which drug first for stable angina?",
    "reference_answer": "A beta blocker.",
    "rubric": [
        {"description": "Essential Criteria: Names a beta blocker.", "title": "Beta blocker", "weight": 5},
        {"description": "Optional Criteria: Mentions nitrates for relief.", "title": "Nitrates", "weight": 1},
        {"description": "Pitfall Criteria: Does not mention contraindications.", "title": "Contra", "weight": -2},
    ],
}
HEART = {
    "question": "q",
    "prompt": [{"role": "system", "content": "You are careful."}, {"role": "user", "content": "q"}],
    "rubrics": [
        {"criterion": "Essential Criteria: Says X.", "points": 5, "title": "X"},
        {"criterion": "Pitfall Criteria: Recommends Y.", "points": -1, "title": "Y"},
    ],
    "heart_related": "YES",
    "heart_theme": "chest pain",
}
HB = {
    "prompt_id": "p1",
    "prompt": [
        {"role": "user", "content": "My heart races."},
        {"role": "assistant", "content": "How long?"},
        {"role": "user", "content": "Two days."},
    ],
    "rubrics": [
        {"criterion": "Asks about syncope.", "points": 6, "tags": ["level:example", "axis:completeness"]},
        {"criterion": "Fails to advise urgent care for chest pain.", "points": -7, "tags": ["axis:accuracy"]},
    ],
}


def test_rar_medicine_record() -> None:
    assert detect_format(RAR) == "rar_medicine"
    crit = rubric_from_record(RAR)
    assert [c.category for c in crit] == [Category.essential, Category.optional, Category.pitfall]
    assert [c.points for c in crit] == [5, 1, -2]
    assert crit[0].tags == ["title:Beta blocker"]
    assert [m.content for m in prompt_from_record(RAR)] == [RAR["question"]]


def test_heart_subset_record_keeps_chat_prompt() -> None:
    assert detect_format(HEART) == "heart_subset"
    crit = rubric_from_record(HEART)
    assert crit[1].is_pitfall and crit[1].category is Category.pitfall
    assert [m.role for m in prompt_from_record(HEART)] == ["system", "user"]


def test_healthbench_record_multi_turn() -> None:
    assert detect_format(HB) == "healthbench"
    crit = rubric_from_record(HB)
    assert crit[0].category is None  # no prefix, positive
    assert crit[1].category is Category.pitfall  # negative points
    assert crit[0].tags == ["level:example", "axis:completeness"]
    assert len(prompt_from_record(HB)) == 3


def test_load_rubric_accepts_json_string_items_and_records() -> None:
    assert len(load_rubric(json.dumps(RAR["rubric"]))) == 3
    assert len(load_rubric(HB)) == 2
    assert load_rubric([{"criterion": "c", "points": 2}])[0].points == 2
    with pytest.raises(RubricFormatError):
        load_rubric([{"text": "no"}])
    with pytest.raises(RubricFormatError):
        load_rubric("not json")
    with pytest.raises(RubricFormatError):
        load_rubric([])


@pytest.mark.parametrize("points", [float("nan"), float("inf"), 1e308, -1001])
def test_criterion_rejects_non_finite_and_absurd_points(points: float) -> None:
    with pytest.raises(ValidationError) as e:
        Criterion(criterion="x", points=points)
    assert e.value.errors()[0]["loc"] == ("points",)


def test_criterion_accepts_zero_points_as_the_published_schema_does() -> None:
    c = Criterion(criterion="Mentions follow-up.", points=0)
    assert c.points == 0 and not c.is_pitfall and c.category is None


def test_shared_rar_medicine_sample_loads_with_rar_weights() -> None:
    records = shared_records("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
    assert len(records) == 104
    seen = {}
    for rec in records:
        crit = rubric_from_record(rec)
        assert len(crit) == rec["rubric_count"]
        for c in crit:
            assert c.category is not None
            seen.setdefault(c.category, set()).add(c.points)
    assert seen[Category.essential] == {5}
    assert seen[Category.pitfall] == {-1, -2}
    assert seen[Category.optional] <= {1, 2}


def test_shared_healthbench_samples_load() -> None:
    hard = shared_records("healthbench", "hard_sample50.jsonl")
    assert sum(len(rubric_from_record(r)) for r in hard) == 559
    assert any(len(prompt_from_record(r)) > 1 for r in hard)  # multi-turn kept whole
    consensus = shared_records("healthbench", "context_seeking_consensus104.jsonl")
    for r in consensus:
        crit = rubric_from_record(r)
        assert [c.points for c in crit] == [5, 5]
        assert any(t.startswith("cluster:") for t in crit[0].tags)
