"""The known-truth rubric set (trainer/truth): its shape, and its predicates on hand-written responses."""

from __future__ import annotations

import math

import pytest

from trainer.truth import holds, load_known_truth
from trainer.truth._predicates import check

RECORDS = load_known_truth()
NON_ANSWER = "I cannot help with that. Please ask someone else."
CATEGORIES = {"Essential": (4, 5), "Important": (2, 4), "Optional": (1, 2), "Pitfall": (-2, -1)}


def test_the_set_has_its_splits_and_rar_shaped_rubrics() -> None:
    assert len(RECORDS) >= 24
    train, test = load_known_truth("train"), load_known_truth("test")
    assert len(train) + len(test) == len(RECORDS) and len(test) >= 6
    assert not {r.id for r in train} & {r.id for r in test}
    assert len({r.prompt for r in RECORDS}) == len(RECORDS)
    for r in RECORDS:
        assert 6 <= len(r.rubric) <= 12, r.id
        seen = set()
        for c in r.rubric:
            category = c["criterion"].split(" Criteria:", 1)[0]
            low, high = CATEGORIES[category]
            assert low <= c["points"] <= high, (r.id, c["criterion"])
            seen.add(category)
        assert {"Essential", "Important", "Pitfall"} <= seen, r.id


@pytest.mark.parametrize("record", RECORDS, ids=[r.id for r in RECORDS])
def test_the_reference_meets_every_essential_and_trips_no_pitfall(record) -> None:
    verdicts = record.verdicts(record.reference)
    for c, met in zip(record.rubric, verdicts, strict=True):
        if c["criterion"].startswith("Essential"):
            assert met, c["criterion"]
        if c["points"] < 0:
            assert not met, c["criterion"]
    assert record.essential_share(record.reference) == 1.0
    assert record.score(record.reference) > 0.6


@pytest.mark.parametrize("record", RECORDS, ids=[r.id for r in RECORDS])
def test_a_non_answer_meets_nothing(record) -> None:
    assert not any(record.verdicts(NON_ANSWER))
    assert record.score(NON_ANSWER) == 0.0


def test_a_harmful_answer_trips_the_pitfalls_and_scores_below_zero() -> None:
    chest = next(r for r in RECORDS if r.id == "kt-chest-pain")
    harmful = "Probably nothing. Wait and see if it passes, and take ibuprofen for the pain."
    verdicts = chest.verdicts(harmful)
    assert [c["points"] for c, v in zip(chest.rubric, verdicts, strict=True) if v] == [-2, -1]
    assert chest.score(harmful) == pytest.approx(-3 / 18)  # positive points 5 + 5 + 4 + 3 + 1


@pytest.mark.parametrize(
    ("predicate", "met", "not_met"),
    [
        ({"any": ["ECG", "EKG"]}, "Get an ECG today.", "ECGs are tests."),  # word boundary
        ({"any": ["ecg*"]}, "ECGs are tests.", "An echo is a test."),  # a stem
        ({"any": ["call 911"]}, "Please CALL\n911 now.", "Call 9110."),  # case and white space folded
        ({"all": ["aspirin", "allergic"]}, "Aspirin, unless allergic.", "Aspirin now."),
        ({"not": {"any": ["ibuprofen"]}}, "Rest.", "Take ibuprofen."),
        ({"and": [{"any": ["aspirin"]}, {"not": {"any": ["do not"]}}]}, "Give aspirin.", "Do not give aspirin."),
        ({"or": [{"any": ["stroke"]}, {"any": ["FAST"]}]}, "Remember FAST.", "Remember this."),
        ({"min_words": 3}, "one two three", "one two"),
        ({"max_words": 2}, "one two", "one two three"),
    ],
)
def test_predicates_on_hand_written_responses(predicate, met, not_met) -> None:
    check(predicate)
    assert holds(predicate, met)
    assert not holds(predicate, not_met)


@pytest.mark.parametrize(
    "predicate", [{"any": []}, {"any": "ECG"}, {"maybe": ["x"]}, {"any": ["a"], "all": ["b"]}, {"not": {"any": [""]}}]
)
def test_malformed_predicates_are_refused(predicate) -> None:
    with pytest.raises(ValueError):
        check(predicate)


def _pairs() -> list[tuple[str, str, bool]]:
    """Every (criterion, response, truth) over the set's references and non-answers: both labels occur."""
    out = []
    for r in RECORDS:
        for response in (r.reference, NON_ANSWER, r.reference.split(". ")[0]):
            out += [(c["criterion"], response, v) for c, v in zip(r.rubric, r.verdicts(response), strict=True)]
    return out


def test_a_noiseless_judge_answers_the_truth_exactly() -> None:
    from trainer.truth._noise import agreement, likert, p_yes, sample_verdict

    pairs = _pairs()
    probs = [p_yes(t, math.inf, c, resp) for c, resp, t in pairs]
    assert probs == [1.0 if t else 0.0 for _, _, t in pairs]
    verdicts = [sample_verdict(p, c, resp) for p, (c, resp, _) in zip(probs, pairs, strict=True)]
    assert agreement([t for *_, t in pairs], verdicts) == {"accuracy": 1.0, "macro_f1": 1.0}
    assert [likert(s / 9, math.inf, "x") for s in range(10)] == list(range(1, 11))


def test_agreement_falls_monotonically_as_the_judge_gets_noisier() -> None:
    from trainer.truth._noise import agreement, p_yes, sample_verdict

    pairs = _pairs()
    truth = [t for *_, t in pairs]
    assert 0.2 < sum(truth) / len(truth) < 0.8
    figures = []
    for beta in (8.0, 4.0, 2.0, 1.0, 0.5, 0.0):
        verdicts = [sample_verdict(p_yes(t, beta, c, resp), c, resp) for c, resp, t in pairs]
        figures.append(agreement(truth, verdicts))
    accuracy = [f["accuracy"] for f in figures]
    assert accuracy == sorted(accuracy, reverse=True) and accuracy[0] > 0.97
    assert 0.4 < accuracy[-1] < 0.6  # β = 0: a coin
    assert [f["macro_f1"] for f in figures] == sorted((f["macro_f1"] for f in figures), reverse=True)


def test_the_noise_is_deterministic_per_seed() -> None:
    from trainer.truth._noise import p_yes

    a = p_yes(True, 1.0, "crit", "resp", seed=1)
    assert a == p_yes(True, 1.0, "crit", "resp", seed=1)
    assert a != p_yes(True, 1.0, "crit", "resp", seed=2)
