"""Grading examples through the grader (healthbench scheme and template) and summarising the runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared import GradeItem, GraderClient, JudgeOptions
from trainer.evaluation.data import Example, append_jsonl
from trainer.evaluation.metrics import ClippedStats, binary_metrics, clipped_stats, example_score


def grade_chunk(
    client: GraderClient, examples: list[Example], responses: dict[str, str], judge: JudgeOptions
) -> list[dict[str, Any]]:
    """One graded row per example: score (unclipped), verdicts per criterion, tags, or the error. An example
    whose rubric has no positive points has no score (the reference's rule) and is not sent to the judge."""
    rows = [_unscorable(ex, responses[ex.prompt_id]) for ex in examples if not any(c.points > 0 for c in ex.rubric)]
    examples = [ex for ex in examples if any(c.points > 0 for c in ex.rubric)]
    if not examples:
        return rows
    items = [
        GradeItem(id=ex.prompt_id, prompt=ex.conversation, response=responses[ex.prompt_id], rubric=ex.rubric)
        for ex in examples
    ]
    resp = client.grade(items, scheme="healthbench", judge=judge)
    for ex, res in zip(examples, resp.results, strict=True):
        met = [c.met for c in res.criteria]
        score = None
        if res.reward is not None and all(m is not None for m in met):
            score = example_score([c.points for c in ex.rubric], [bool(m) for m in met])
        rows.append(
            {
                "prompt_id": ex.prompt_id,
                "score": score,
                "grader_reward": res.reward,
                "reward_std": res.reward_std,
                "error": res.error.model_dump(mode="json") if res.error else None,
                "points": [c.points for c in ex.rubric],
                "met": met,
                "p_met": [c.p_met for c in res.criteria],
                "criteria": [c.criterion for c in ex.rubric],
                "criterion_details": [
                    {
                        "category": c.category.value if c.category else None,
                        "explanation": c.explanation,
                        "error": f"{c.error.type.value}: {c.error.message}" if c.error else None,
                        "penalised_when": c.penalised_when,
                    }
                    for c in res.criteria
                ],
                "criterion_tags": [c.tags for c in ex.rubric],
                "example_tags": ex.example_tags,
                "cardiac_theme": ex.cardiac_theme,
                "response": responses[ex.prompt_id],
                "judge": f"{resp.model} ({resp.mode.value})",
            }
        )
    return rows


def _unscorable(ex: Example, response: str) -> dict[str, Any]:
    return {
        "prompt_id": ex.prompt_id,
        "score": None,
        "grader_reward": None,
        "reward_std": None,
        "error": {"type": "no_positive_points", "message": "the rubric has no positive points: no score"},
        "points": [c.points for c in ex.rubric],
        "met": [None] * len(ex.rubric),
        "p_met": [None] * len(ex.rubric),
        "criterion_tags": [c.tags for c in ex.rubric],
        "example_tags": ex.example_tags,
        "cardiac_theme": ex.cardiac_theme,
        "response": response,
        "judge": "not judged",
    }


def grade_all(
    client: GraderClient,
    examples: list[Example],
    responses: dict[str, str],
    judge: JudgeOptions,
    out: Path,
    *,
    chunk: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Append graded rows to `out` chunk by chunk, so a crash loses at most the chunk in flight."""
    for i in range(0, len(examples), chunk):
        rows = grade_chunk(client, examples[i : i + chunk], responses, judge)
        append_jsonl(out, rows)
        if progress:
            progress(len(rows))


def _stats(values: list[float], n_boot: int, seed: int) -> dict[str, Any]:
    s: ClippedStats = clipped_stats(values, n_boot=n_boot, seed=seed)
    return {"mean": s.mean, "std": s.std, "ci95": [s.ci_low, s.ci_high], "n": s.n}


def axis_scores(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per example and axis tag: met points / positive points over that axis' criteria (simple-evals)."""
    out: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_tag: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        for p, m, tags in zip(r["points"], r["met"], r["criterion_tags"], strict=True):
            for t in tags:
                if t.startswith("axis:"):
                    by_tag[t.split(":", 1)[1]].append((p, bool(m)))
        for tag, pm in by_tag.items():
            pos = sum(p for p, _ in pm if p > 0)
            if pos > 0:
                out[tag].append(sum(p for p, m in pm if m) / pos)
    return dict(out)


def summarise(rows: list[dict[str, Any]], *, threshold: float, n_boot: int, seed: int) -> dict[str, Any]:
    scored = [r for r in rows if r["score"] is not None]
    scores = [r["score"] for r in scored]
    by_theme: dict[str, list[float]] = defaultdict(list)
    by_cardiac: dict[str, list[float]] = defaultdict(list)
    for r in scored:
        for t in r["example_tags"]:
            if t.startswith("theme:"):
                by_theme[t.split(":", 1)[1]].append(r["score"])
        if r["cardiac_theme"]:
            by_cardiac[r["cardiac_theme"]].append(r["score"])
    binary = binary_metrics(scores, threshold)
    failures: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["score"] is None:
            failures[(r["error"] or {}).get("type", "unknown")] += 1
    return {
        "n_examples": len(rows),
        "n_scored": len(scored),
        "failures": dict(failures),
        "overall": _stats(scores, n_boot, seed),
        "per_theme": {k: _stats(v, n_boot, seed) for k, v in sorted(by_theme.items())},
        "per_cardiac_theme": {k: _stats(v, n_boot, seed) for k, v in sorted(by_cardiac.items())},
        "per_axis": {k: _stats(v, n_boot, seed) for k, v in sorted(axis_scores(scored).items())},
        "binary": binary.__dict__,
        "score_histogram": scores,
    }
