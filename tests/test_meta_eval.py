"""The meta-evaluation protocol against the reference's own worked example (simple-evals
`healthbench_meta_eval_test.py`): verdicts T, F, T against physician labels [T, T, F], [T, F], [F]."""

from __future__ import annotations

import pytest

from trainer.evaluation.meta_eval import pairwise_metrics, physician_baselines

PREDS = [True, False, True]
OTHERS = [[True, True, False], [True, False], [False]]
CLUSTERS = ["a", "a", "b"]


def test_reference_worked_example_overall() -> None:
    m = pairwise_metrics(PREDS, OTHERS, CLUSTERS)["overall"]
    assert m["precision_pos"] == {"value": 2 / 4, "n": 4}
    assert m["precision_neg"] == {"value": 1 / 2, "n": 2}
    assert m["recall_pos"] == {"value": 2 / 3, "n": 3}
    assert m["recall_neg"] == {"value": 1 / 3, "n": 3}
    f1_pos = 2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3)
    f1_neg = 2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3)
    assert m["f1_pos"]["value"] == pytest.approx(f1_pos) and m["f1_neg"]["value"] == pytest.approx(f1_neg)
    assert m["f1_balanced"]["value"] == pytest.approx((f1_pos + f1_neg) / 2)
    assert round(m["f1_balanced"]["value"], 3) == 0.486  # the majority-label method gave 0.333


def test_reference_worked_example_by_cluster() -> None:
    clusters = pairwise_metrics(PREDS, OTHERS, CLUSTERS)["clusters"]
    a, b = clusters["a"], clusters["b"]
    assert a["precision_pos"] == {"value": 2 / 3, "n": 3} and a["precision_neg"] == {"value": 1 / 2, "n": 2}
    assert a["recall_pos"] == {"value": 2 / 3, "n": 3} and a["recall_neg"] == {"value": 1 / 2, "n": 2}
    assert b["precision_pos"] == {"value": 0.0, "n": 1} and "precision_neg" not in b
    assert "recall_pos" not in b and b["recall_neg"] == {"value": 0.0, "n": 1}
    assert not {"f1_pos", "f1_neg", "f1_balanced"} & set(b)


def test_physicians_are_scored_against_their_peers() -> None:
    records = [
        {"binary_labels": [True, True, False], "anonymized_physician_ids": ["x", "y", "z"], "category": "a"},
        {"binary_labels": [True, False], "anonymized_physician_ids": ["x", "z"], "category": "a"},
    ]
    base = physician_baselines(records)
    x = base["by_physician"]["x"]
    # x said T twice; peers: [T, F] then [F] -> precision_pos 1/3 over 3 pairs
    assert x["precision_pos"] == {"value": 1 / 3, "n": 3}
    assert base["mean_over_physicians"]["precision_pos"]["physicians"] == 2  # x and y said T; z never did
