"""Evaluation: exact scores with the scripted judge, statistics, comparisons, plots, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from shared import read_jsonl
from tests.conftest import REPO, shared_file
from trainer.evaluation import grade as grade_mod
from trainer.evaluation.cli import EvaluateArguments, run_evaluate
from trainer.evaluation.grade import axis_scores
from trainer.evaluation.meta_records import LabelError, build_meta_records
from trainer.evaluation.metrics import (
    binary_metrics,
    clipped_stats,
    example_score,
    mcnemar_exact,
    paired_bootstrap,
    wilson,
)

# ---------------------------------------------------------------- pure statistics


def test_mcnemar_on_a_hand_made_table() -> None:
    # b = 1, c = 6: p = 2 * P(X <= 1 | n=7, 1/2) = 2 * (1 + 7) / 128
    assert mcnemar_exact(1, 6) == pytest.approx(16 / 128)
    assert mcnemar_exact(6, 1) == mcnemar_exact(1, 6)
    assert mcnemar_exact(3, 3) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 10) == pytest.approx(2 / 1024)


def test_wilson_interval_known_value() -> None:
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)


def test_clipping_only_at_aggregate_and_bootstrap_reproducible() -> None:
    assert example_score([5, 3, -4], [False, False, True]) == pytest.approx(-0.5)  # not clipped
    s = clipped_stats([-0.5, -0.2, 0.1], n_boot=500, seed=7)
    assert s.mean == 0.0  # mean -0.2 clipped at the aggregate
    assert clipped_stats([0.2, 0.9, 0.4, 0.7], seed=1) == clipped_stats([0.2, 0.9, 0.4, 0.7], seed=1)
    assert clipped_stats([0.2, 0.9, 0.4, 0.7], seed=1).std != clipped_stats([0.2, 0.9, 0.4, 0.7], seed=2).std
    assert paired_bootstrap([0.1, 0.2, 0.3], [0.3, 0.5, 0.2], seed=3) == paired_bootstrap(
        [0.1, 0.2, 0.3], [0.3, 0.5, 0.2], seed=3
    )


def test_score_path_follows_the_reference() -> None:
    """simple-evals' healthbench_eval: no positive points -> no score (not 0); per-axis scores over that
    axis' criteria only; the bootstrap resamples per-example scores and clips each resampled mean."""
    assert example_score([-2, -1], [True, False]) is None
    rows = [
        {
            "points": [5, 3, -2],
            "met": [True, False, True],
            "criterion_tags": [["axis:completeness"], ["axis:accuracy"], ["axis:accuracy"]],
        },
    ]
    assert axis_scores(rows) == {"completeness": [1.0], "accuracy": [pytest.approx(-2 / 3)]}
    s = clipped_stats([1.4, 1.2, 1.1], n_boot=200, seed=0)
    assert s.mean == 1.0 and s.std == 0.0  # every resampled mean is above 1, clipped to 1
    s = clipped_stats([1.0, -1.0], n_boot=400, seed=0)
    assert s.mean == 0.0 and 0 < s.std < 0.5  # means of -1 clip to 0, of +1 stay 1, of 0 stay 0


def test_binary_metric_with_all_positive_truth_is_the_papers_identity() -> None:
    m = binary_metrics([0.9, 0.7, 0.2, 0.5], threshold=0.5)
    assert (m.tp, m.fp, m.fn, m.tn) == (2, 0, 2, 0)
    assert m.accuracy == 0.5 and m.precision == 1.0 and m.recall == 0.5
    assert m.f1 == pytest.approx(2 * 0.5 / 1.5)
    assert "all examples labelled positive" in m.ground_truth


# ---------------------------------------------------------------- end to end with the scripted judge

EXAMPLES = [
    # prompt_id, criteria (points, directive), ideal completion
    ("p1", [(5, "aspirin"), (3, "ecg"), (-4, "wait")], "Chew aspirin and get an ECG."),  # (5+3)/8 = 1
    ("p2", [(5, "aspirin"), (3, "ecg"), (-4, "wait")], "Just wait it out, aspirin maybe."),  # (5-4)/8
    ("p3", [(6, "ambulance"), (-8, "drive")], "Drive yourself to hospital."),  # -8/6, unclipped
    ("p4", [(2, "palpitation"), (2, "caffeine")], "Palpitations after caffeine are common."),  # 1
]
HAND = {"p1": 1.0, "p2": 1 / 8, "p3": -8 / 6, "p4": 1.0}


def hb_fixture(path: Path, responses: dict[str, str] | None = None) -> Path:
    with open(path, "w") as f:
        for pid, crit, ideal in EXAMPLES:
            f.write(
                json.dumps(
                    {
                        "prompt_id": pid,
                        "prompt": [
                            {"role": "user", "content": "I have chest pain and palpitations."},
                            {"role": "assistant", "content": "How long?"},
                            {"role": "user", "content": "An hour. What should I do?"},
                        ],
                        "rubrics": [
                            {
                                "criterion": f"Mentions {w} [contains={w}]",
                                "points": p,
                                "tags": [f"axis:{'accuracy' if p > 0 else 'completeness'}", "level:example"],
                            }
                            for p, w in crit
                        ],
                        "example_tags": ["theme:emergency_referrals"],
                        "ideal_completions_data": {"ideal_completion": (responses or {}).get(pid, ideal)},
                    }
                )
                + "\n"
            )
    return path


def _args(tmp: Path, grader_url: str, **kw) -> EvaluateArguments:
    return EvaluateArguments(grader_url=grader_url, bootstrap=200, grade_chunk=2, **kw)


def test_exact_scores_report_and_plots(tmp_path: Path, grader_url: str) -> None:
    data = hb_fixture(tmp_path / "hb.jsonl")
    res = run_evaluate(_args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "run")))
    graded = _graded(tmp_path / "run")
    assert {k: v["score"] for k, v in graded.items()} == pytest.approx(HAND)
    s = res["summary"]
    assert s["n_scored"] == 4 and s["overall"]["mean"] == pytest.approx(sum(HAND.values()) / 4)
    assert s["per_cardiac_theme"]  # the conversation mentions chest pain and palpitations
    assert s["per_theme"]["emergency_referrals"]["n"] == 4
    assert s["per_axis"]["accuracy"]["mean"] == pytest.approx((1 + 5 / 8 + 0 + 1) / 4)
    assert s["binary"]["tp"] == 2 and s["binary"]["fn"] == 2
    for png in ("per_theme.png", "score_distribution.png"):
        data_png = (tmp_path / "run" / png).read_bytes()
        assert data_png[:8] == b"\x89PNG\r\n\x1a\n" and len(data_png) > 5000
    report = (tmp_path / "run/report.md").read_text()
    assert "Ground truth: all examples labelled positive" in report and "scripted" in report
    page = (tmp_path / "run/report.html").read_text()  # the browsable report (tests/test_browser.py opens one)
    data = json.loads(page.split('id="report-data">', 1)[1].split("</script>", 1)[0].replace("<\\/", "</"))
    assert (
        len(data["examples"]) == 4 and "data:image/png;base64," in page and 'src="http' not in page
    )  # offline: nothing fetched
    ex = data["examples"][0]
    assert ex["criteria"] and all(c["criterion"] and c["met"] is not None for c in ex["criteria"])
    results = json.loads((tmp_path / "run/results.json").read_text())
    assert results["seed"] == 0 and results["model"] == "ideal_completions" and results["config"]["n"] == 500


def _graded(run: Path) -> dict[str, dict]:
    rows = [json.loads(x) for x in (run / "graded.jsonl").read_text().splitlines() if x.strip()]
    return {r["prompt_id"]: r for r in rows}


def test_paired_comparison_between_two_runs(tmp_path: Path, grader_url: str) -> None:
    data = hb_fixture(tmp_path / "hb.jsonl")
    run_evaluate(_args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "base")))
    better = {"p2": "Aspirin and an ECG now.", "p3": "Call an ambulance."}
    with open(tmp_path / "resp.jsonl", "w") as f:
        for pid, _, ideal in EXAMPLES:
            f.write(json.dumps({"prompt_id": pid, "response": better.get(pid, ideal)}) + "\n")
    res = run_evaluate(
        _args(
            tmp_path,
            grader_url,
            data=str(data),
            output_dir=str(tmp_path / "new"),
            responder="file",
            responses_file=str(tmp_path / "resp.jsonl"),
            compare_with=str(tmp_path / "base"),
        )
    )
    cmp = res["comparison"]
    assert cmp["n_paired"] == 4
    assert cmp["mcnemar"] == {"b": 0, "c": 2, "p_value": pytest.approx(0.5)}
    assert cmp["bootstrap"]["diff"] == pytest.approx(((1 - 1 / 8) + (1 + 8 / 6)) / 4)
    assert "McNemar exact p = 0.500" in (tmp_path / "new/report.md").read_text()


def test_resume_after_an_interrupted_run(tmp_path: Path, grader_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = hb_fixture(tmp_path / "hb.jsonl")
    args = _args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "run"))
    real = grade_mod.grade_chunk
    graded_ids: list[str] = []

    def crash_after_first_chunk(client, examples, responses, judge):
        if graded_ids:
            raise KeyboardInterrupt("simulated crash")
        graded_ids.extend(e.prompt_id for e in examples)
        return real(client, examples, responses, judge)

    monkeypatch.setattr(grade_mod, "grade_chunk", crash_after_first_chunk)
    with pytest.raises(KeyboardInterrupt):
        run_evaluate(args)
    assert set(_graded(tmp_path / "run")) == {"p1", "p2"}  # the first chunk survived the crash

    second: list[str] = []

    def counting(client, examples, responses, judge):
        second.extend(e.prompt_id for e in examples)
        return real(client, examples, responses, judge)

    monkeypatch.setattr(grade_mod, "grade_chunk", counting)
    res = run_evaluate(args)
    assert second == ["p3", "p4"]  # only what was missing
    assert res["summary"]["n_scored"] == 4
    assert {k: v["score"] for k, v in _graded(tmp_path / "run").items()} == pytest.approx(HAND)


def test_meta_evaluation_against_physician_labels(tmp_path: Path, grader_url: str) -> None:
    """The reference's pairwise protocol on a small file; scripted verdicts: met, met, not, not, met."""
    data = hb_fixture(tmp_path / "hb.jsonl")
    meta = tmp_path / "meta.jsonl"
    rows = [
        ("Take aspirin", "Mentions aspirin [contains=aspirin]", [True, True, False], "a"),
        ("Get an ECG", "Mentions ecg [contains=ecg]", [False, False, True], "a"),
        ("Rest", "Mentions aspirin [contains=aspirin]", [False, False], "b"),
        ("Rest", "Mentions ecg [contains=ecg]", [True, True, True], "b"),
        ("Rest", "Mentions rest [contains=rest]", [True, False], "b"),
    ]
    with open(meta, "w") as f:
        for k, (completion, crit, labels, cluster) in enumerate(rows):
            record = {
                "prompt": [{"role": "user", "content": "chest pain?"}],
                "completion": completion,
                "rubric": crit,
                "binary_labels": labels,
                "anonymized_physician_ids": [f"doc{(k + j) % 3}" for j in range(len(labels))],
                "category": f"cluster:{cluster}",
            }
            f.write(json.dumps(record) + "\n")
    res = run_evaluate(
        _args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "run"), meta_eval=str(meta))
    )
    m = res["meta_eval"]
    assert m["n_judged"] == 5 and m["n_failed"] == 0 and "pairwise" in m["protocol"]
    overall = m["model"]["overall"]
    # by hand: pos precision 4/8, neg precision 2/5, pos recall 4/7, neg recall 2/6
    assert overall["precision_pos"] == {"value": 0.5, "n": 8} and overall["recall_neg"]["value"] == pytest.approx(1 / 3)
    assert overall["f1_balanced"]["value"] == pytest.approx((8 / 15 + 4 / 11) / 2)
    assert set(m["model"]["clusters"]) == {"cluster:a", "cluster:b"}
    assert m["physicians"]["mean_over_physicians"]["f1_balanced"]["physicians"] >= 1
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| f1_balanced | 0.448 (n=" in report and "labellers vs labellers" in report
    assert "Labels by 3 labeller(s): doc0, doc1, doc2" in report


def test_meta_eval_records_built_from_labels_on_the_shared_sample(tmp_path: Path, grader_url: str) -> None:
    """trainer/evaluation/meta_labels points into HealthBench Hard by prompt_id and criterion index; the records it
    builds run through the same protocol. One labeller per record: the report says there is no peer
    baseline rather than printing one."""
    src = shared_file("healthbench", "hard_sample50.jsonl")
    labels = REPO / "trainer" / "evaluation" / "meta_labels" / "hard_sample50_ideal.jsonl"
    records = build_meta_records(read_jsonl(src), read_jsonl(labels))
    assert len(records) == 50 and sum(r["binary_labels"][0] for r in records) == 17
    by_id = {json.loads(line)["prompt_id"]: json.loads(line) for line in src.read_text().splitlines()}
    for r in records:
        source = by_id[r["prompt_id"]]
        assert r["completion"] == source["ideal_completions_data"]["ideal_completion"]
        assert r["rubric"] == source["rubrics"][r["criterion_index"]]["criterion"]
    assert {r["category"] for r in records} >= {"example-level", "complex_responses_detailed_accuracy_hedging"}

    res = run_evaluate(
        _args(tmp_path, grader_url, data=str(src), output_dir=str(tmp_path / "run"), meta_labels=str(labels), n=1)
    )
    m = res["meta_eval"]
    assert m["n_records"] == 50 and m["n_judged"] + m["n_failed"] == 50 and m["labellers"] == ["developer-1"]
    pairs = m["model"]["overall"]
    assert pairs["precision_pos"]["n"] + pairs["precision_neg"]["n"] == m["n_judged"]  # one pair per record
    assert m["physicians"]["mean_over_physicians"] == {}
    assert "No peer baseline" in (tmp_path / "run" / "report.md").read_text()


def test_labels_that_point_nowhere_are_refused() -> None:
    record = {"prompt_id": "p", "prompt": [], "rubrics": [{"criterion": "c", "points": 1, "tags": []}]}
    row = {"prompt_id": "p", "completion": "ideal", "criterion_index": 0, "binary_labels": [True]}
    with pytest.raises(LabelError, match="no ideal completion"):
        build_meta_records([record], [{**row, "labeller_ids": ["a"]}])
    record["ideal_completions_data"] = {"ideal_completion": "text"}
    with pytest.raises(LabelError, match="criterion_index 3"):
        build_meta_records([record], [{**row, "criterion_index": 3, "labeller_ids": ["a"]}])
    with pytest.raises(LabelError, match="one per labeller"):
        build_meta_records([record], [{**row, "labeller_ids": ["a", "b"]}])
    with pytest.raises(LabelError, match="not in the HealthBench data"):
        build_meta_records([record], [{**row, "prompt_id": "q", "labeller_ids": ["a"]}])


def test_shared_healthbench_sample_with_ideal_completions(tmp_path: Path, grader_url: str) -> None:
    src = shared_file("healthbench", "hard_sample50.jsonl")
    res = run_evaluate(_args(tmp_path, grader_url, data=str(src), output_dir=str(tmp_path / "hb"), n=None))
    s = res["summary"]
    # heart-related conversations of the sample that have an ideal completion
    assert s["n_examples"] == s["n_scored"] >= 1
    assert set(s["per_cardiac_theme"]) and all(0 <= v["mean"] <= 1 for v in s["per_cardiac_theme"].values())
    graded = _graded(tmp_path / "hb")
    for row in graded.values():  # per-example scores follow the verdicts exactly
        pos = sum(p for p in row["points"] if p > 0)
        assert row["score"] == pytest.approx(sum(p for p, m in zip(row["points"], row["met"], strict=True) if m) / pos)
        assert math.isclose(row["score"], row["grader_reward"], abs_tol=1e-9)


@pytest.mark.slow
def test_hf_responder_generates_with_a_local_model_and_adapter(tmp_path: Path, grader_url: str) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from trainer.models.tiny import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny")
    adapter = tmp_path / "adapter"
    peft_model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(model_dir),
        LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM"),
    )
    peft_model.save_pretrained(adapter)
    data = hb_fixture(tmp_path / "hb.jsonl")
    hf = {"responder": "hf", "model_name_or_path": str(model_dir), "adapter": str(adapter), "max_new_tokens": 8}
    res = run_evaluate(_args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "run"), **hf))
    assert res["model"] == f"hf:{model_dir}+{adapter}"
    assert res["summary"]["n_scored"] == 4
    responses = [json.loads(x) for x in (tmp_path / "run/responses.jsonl").read_text().splitlines()]
    assert len(responses) == 4 and all(isinstance(r["response"], str) for r in responses)


def test_openai_responder_against_an_openai_compatible_server(tmp_path: Path, grader_url: str, judge_url: str) -> None:
    # the scripted server stands in for a served policy here: it answers any chat with a short text
    data = hb_fixture(tmp_path / "hb.jsonl")
    policy = {"responder": "openai", "endpoint_base_url": judge_url, "model_name_or_path": "policy"}
    res = run_evaluate(_args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "run"), **policy))
    assert res["model"] == "openai:policy" and res["summary"]["n_scored"] == 4
    responses = [json.loads(x)["response"] for x in (tmp_path / "run/responses.jsonl").read_text().splitlines()]
    assert all("rating" in r for r in responses)


def _summary(chest: float, hf: float) -> dict:
    st = lambda m, n: {"mean": m, "ci95": [max(0.0, m - 0.1), min(1.0, m + 0.1)], "n": n}  # noqa: E731
    return {
        "per_theme": {},
        "per_cardiac_theme": {"chest pain": st(chest, 2), "heart failure": st(hf, 4)},
        "overall": {"mean": (chest + hf) / 2},
        "score_histogram": [chest, hf, 0.5],
        "binary": {"threshold": 0.5},
    }


def test_plots_show_zeros_whole_counts_and_the_baseline() -> None:
    import matplotlib.pyplot as plt

    from trainer.evaluation.report import rewards_figure, themes_figure

    fig = themes_figure(_summary(0.0, 0.6), baseline=_summary(0.1, 0.5))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "0.00 (n=2)" in texts and "0.10 (n=2)" in texts  # the zero is drawn and labelled, as is the baseline
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"this run", "baseline"}
    plt.close(fig)
    fig = rewards_figure(_summary(0.0, 0.6), baseline=_summary(0.1, 0.5))
    ticks = [t for t in fig.axes[0].get_yticks() if t >= 0]
    assert all(float(t).is_integer() for t in ticks)
    assert any("baseline" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)


def test_user_judge_template_is_recorded_with_its_comparability(tmp_path: Path, grader_url: str) -> None:
    from tests.test_judge_prompts import REFERENCE_LIKE

    data = hb_fixture(tmp_path / "hb.jsonl")
    template = tmp_path / "grader_prompt.txt"
    template.write_text(REFERENCE_LIKE)
    res = run_evaluate(
        _args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "t"), judge_template_file=str(template))
    )
    assert res["judge_template"].startswith("custom:") and res["summary"]["n_scored"] == 4
    assert {k: v["score"] for k, v in _graded(tmp_path / "t").items()} == pytest.approx(HAND)  # same verdicts
    report = (tmp_path / "t" / "report.md").read_text()
    assert res["judge_template"] in report and "only if that file is simple-evals' grader prompt" in report
    ours = run_evaluate(_args(tmp_path, grader_url, data=str(data), output_dir=str(tmp_path / "o")))
    assert ours["judge_template"] == "ours" and "not comparable" in (tmp_path / "o" / "report.md").read_text()
