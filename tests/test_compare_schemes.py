"""The scheme comparison: its statistics (property tests) and a run through the grader (scripted judge)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.compare._metrics import ranks, spearman, spread
from trainer.compare.cli import CompareSchemesArguments, run_compare_schemes

values = st.lists(st.floats(-100, 100, allow_nan=False), min_size=3, max_size=30)
# rewards on a grid (like points-based schemes): distinct values stay distinct under the maps below
grid = st.lists(st.integers(-40, 40).map(lambda k: k / 4), min_size=3, max_size=30)


@given(values)
def test_ranks_are_a_permutation_average_for_ties(xs: list[float]) -> None:
    r = ranks(xs)
    assert sum(r) == pytest.approx(len(xs) * (len(xs) + 1) / 2)
    for i, j in ((i, j) for i in range(len(xs)) for j in range(len(xs))):
        if xs[i] < xs[j]:
            assert r[i] < r[j]
        if xs[i] == xs[j]:
            assert r[i] == r[j]


@given(grid)
def test_spearman_is_one_with_itself_and_under_monotone_maps(xs: list[float]) -> None:
    if len(set(xs)) < 2:
        assert spearman(xs, xs) is None
        return
    assert spearman(xs, xs) == pytest.approx(1.0)
    assert spearman(xs, [math.atan(x) * 3 + 1 for x in xs]) == pytest.approx(1.0)  # strictly increasing
    assert spearman(xs, [-x for x in xs]) == pytest.approx(-1.0)


@given(st.lists(st.lists(st.integers(0, 80).map(lambda k: k / 4), min_size=2, max_size=6), min_size=1, max_size=8))
def test_spread_within_share_and_zero_variance(groups: list[list[float]]) -> None:
    s = spread({str(i): g for i, g in enumerate(groups)})
    flat = [len(set(g)) == 1 for g in groups]
    assert s["zero_variance_frac"] == pytest.approx(sum(flat) / len(groups))
    if s["within_share"] is not None:
        assert -1e-9 <= s["within_share"] <= 1 + 1e-9
    # shifting each group by its own constant changes the share, never the within-group stds
    shifted = spread({str(i): [x + 7 * i for x in g] for i, g in enumerate(groups)})
    assert shifted["within_std_mean"] == pytest.approx(s["within_std_mean"])


def test_spread_ignores_nulls_and_one_item_groups() -> None:
    s = spread({"a": [1.0, None, 1.0], "b": [2.0, 4.0], "c": [3.0], "d": [None, None]})
    assert s["groups"] == 2 and s["items"] == 4
    assert s["zero_variance_frac"] == 0.5 and s["within_std_mean"] == pytest.approx(0.5)
    assert s["within_share"] == pytest.approx((2 * 0 + 2 * 1) / 4 / 1.5)  # total variance of 1, 1, 2, 4: 1.5


def test_compare_schemes_through_the_grader(grader_url: str, tmp_path: Path) -> None:
    """Two groups: identical completions (flat under every scheme) and completions that differ on a
    criterion; every scheme comes from one judge pass per mode."""
    rubric = [
        {"criterion": "Essential Criteria: Advises seeing a doctor [contains=doctor]", "points": 5},
        {"criterion": "Important Criteria: Mentions aspirin [contains=aspirin]", "points": 3},
        {"criterion": "Pitfall Criteria: Suggests waiting [contains=wait]", "points": -2},
    ]
    rows = [
        {"id": "flat", "prompt": "Chest pain?", "rubric": rubric, "completions": ["See a doctor."] * 3},
        {
            "id": "varied",
            "prompt": "Chest pain on stairs?",
            "rubric": rubric,
            "completions": ["See a doctor, take aspirin.", "Just wait.", "See a doctor."],
        },
    ]
    path = tmp_path / "rollouts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "out"
    res = run_compare_schemes(CompareSchemesArguments(rollouts=str(path), grader_url=grader_url, output_dir=str(out)))
    assert res["groups"] == 2 and res["items"] == 6 and res["null_rewards"] == {"verdict": 0, "logprob": 0}
    assert res["null_reasons"] == {"verdict": {}, "logprob": {}}
    for mode in ("verdict", "logprob"):
        assert res["judge_calls"][mode] <= 6 * 3  # every scheme from the same verdicts; repeats are cache hits
        for scheme in ("hybrid", "complexity", "healthbench", "rar_explicit"):
            s = res["spread"][mode][scheme]
            assert s["groups"] == 2 and s["zero_variance_frac"] == 0.5
            assert res["rank_correlation"][mode][scheme][scheme] == pytest.approx(1.0)
    # the varied group: doctor+aspirin (8/8), wait only (pitfall, 0 positive), doctor (5/8); healthbench's ranks
    assert res["spread"]["verdict"]["healthbench"]["max"] == pytest.approx(1.0)
    assert res["spread"]["verdict"]["healthbench"]["min"] == pytest.approx(-2 / 8)
    assert res["hard_vs_soft"]["hybrid"] == pytest.approx(1.0)  # [contains] verdicts are certain in both modes
    for name in ("results.json", "report.md", "report.html", "rollouts.jsonl", "zero_variance.png", "within_share.png"):
        assert (out / name).stat().st_size > 0
    assert "| verdict | hybrid | 0.50 (2 groups)" in (out / "report.md").read_text()


def test_rollouts_saved_by_the_reward_function_are_read_back(tmp_path: Path) -> None:
    from shared import GradeItem
    from shared.rewards import dump_batch
    from trainer.compare._rollouts import load_rollouts

    rubric = [{"criterion": "Mentions aspirin", "points": 1}]
    items = [GradeItem(group_id=f"1-{k // 2}", prompt="q", response=f"r{k}", rubric=rubric) for k in range(4)]
    dump_batch(items, tmp_path / "dump" / "batch-1.jsonl")
    groups = load_rollouts(tmp_path / "dump")
    assert [(g.id, g.completions) for g in groups] == [("1-0", ["r0", "r1"]), ("1-1", ["r2", "r3"])]
    assert groups[0].rubric[0].criterion == "Mentions aspirin"


@pytest.mark.slow
def test_compare_schemes_generates_with_a_local_model_spec(grader_url: str, judge_script, tmp_path: Path) -> None:
    """No policy server: `--model_name_or_path tiny:DIR` (or gguf:smollm2) samples the G completions here."""
    data = tmp_path / "prompts.jsonl"
    rubric = [{"criterion": "Mentions e [contains=e]", "points": 5}, {"criterion": "Uses z [contains=z]", "points": -2}]
    with open(data, "w") as f:
        for i in range(2):
            f.write(
                json.dumps({"prompt": [{"role": "user", "content": f"q{i}: chest pain?"}], "rubric": rubric}) + "\n"
            )
    args = CompareSchemesArguments(
        data=str(data),
        model_name_or_path=f"tiny:{tmp_path / 'tiny'}",
        num_generations=3,
        max_tokens=8,
        modes=["logprob"],
        grader_url=grader_url,
        output_dir=str(tmp_path / "out"),
    )
    res = run_compare_schemes(args)
    assert res["groups"] == 2 and res["items"] == 6 and "generated here by tiny:" in res["source"]
    assert judge_script.calls == 12  # 6 completions x 2 criteria
    rows = [json.loads(x) for x in (tmp_path / "out" / "rollouts.jsonl").read_text().splitlines()]
    assert [len(r["completions"]) for r in rows] == [3, 3]
