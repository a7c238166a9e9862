"""The report's example rows, from what each command already writes (graded.jsonl, reward dumps)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shared import GradeItem, GradeResponse, infer_category


def _criteria(
    texts: list[str], points: list[float], met: list[Any], p_met: list[Any], extra: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for i, text in enumerate(texts):
        more = extra[i] if i < len(extra) else {}
        category = more.get("category")
        if category is None:
            inferred = infer_category(text, points[i])
            category = inferred.value if inferred is not None else ("pitfall" if points[i] < 0 else None)
        out.append(
            {
                "criterion": text,
                "points": points[i],
                "category": category,
                "met": met[i] if i < len(met) else None,
                "p_met": p_met[i] if i < len(p_met) else None,
                "explanation": more.get("explanation"),
                "error": more.get("error"),
                "penalised_when": more.get("penalised_when"),
            }
        )
    return out


def from_graded_rows(rows: Iterable[Mapping[str, Any]], conversations: Mapping[str, Any], scheme: str) -> list[dict]:
    """`evaluate`'s graded.jsonl rows (criterion texts, explanations and errors where the row has them)."""
    out = []
    for row in rows:
        n = len(row.get("points") or [])
        texts = row.get("criteria") or [f"criterion {i + 1}" for i in range(n)]
        err = row.get("error")
        out.append(
            {
                "id": row["prompt_id"],
                "conversation": conversations.get(row["prompt_id"], []),
                "response": row.get("response", ""),
                "scheme": scheme,
                "reward": row.get("grader_reward"),
                "score": row.get("score"),
                "reward_std": row.get("reward_std"),
                "error": f"{err['type']}: {err['message']}" if err else None,
                "tags": [t for t in [row.get("cardiac_theme")] if t],
                "criteria": _criteria(
                    texts,
                    row.get("points") or [],
                    row.get("met") or [],
                    row.get("p_met") or [],
                    row.get("criterion_details") or [],
                ),
            }
        )
    return out


def from_dump_rows(rows: Iterable[Mapping[str, Any]], scheme: str, label: str = "") -> list[dict]:
    """Reward dumps (`--reward_dump_dir`): one row per completion, with its group and verdicts."""
    out = []
    for n, row in enumerate(rows):
        rubric = row.get("rubric") or []
        verdicts = row.get("verdicts") or []
        out.append(
            {
                "id": f"{label}{n}",
                "conversation": row.get("prompt") or [],
                "response": row.get("completion", ""),
                "scheme": scheme,
                "reward": row.get("reward"),
                "reward_std": row.get("reward_std"),
                "error": row.get("error"),
                "tags": [t for t in [label.rstrip(":/ ") or None, row.get("group_id")] if t],
                "criteria": _criteria(
                    [c.get("criterion", "") for c in rubric],
                    [float(c.get("points", 0)) for c in rubric],
                    [v.get("met") for v in verdicts],
                    [v.get("p_met") for v in verdicts],
                    [{"category": v.get("category"), "penalised_when": v.get("penalised_when")} for v in verdicts],
                ),
            }
        )
    return out


def from_grade_response(items: Sequence[GradeItem], resp: GradeResponse, label: str = "") -> list[dict]:
    """Items and the grader's answer for them (compare-schemes, tests): the other schemes' rewards as tags."""
    out = []
    for it, r in zip(items, resp.results, strict=True):
        extra = [f"{k} {x.reward:.3f}" if x.reward is not None else f"{k} null" for k, x in r.extra_rewards.items()]
        out.append(
            {
                "id": f"{label}{it.id}",
                "conversation": [m.model_dump() for m in it.messages()],
                "response": it.response,
                "scheme": resp.scheme,
                "reward": r.reward,
                "reward_std": r.reward_std,
                "error": f"{r.error.type.value}: {r.error.message}" if r.error else None,
                "tags": [t for t in [it.group_id] if t] + extra,
                "criteria": [
                    {
                        "criterion": c.criterion,
                        "points": c.points,
                        "category": c.category.value if c.category else ("pitfall" if c.points < 0 else None),
                        "met": c.met,
                        "p_met": c.p_met,
                        "explanation": c.explanation,
                        "error": f"{c.error.type.value}: {c.error.message}" if c.error else None,
                        "penalised_when": c.penalised_when,
                    }
                    for c in r.criteria
                ],
            }
        )
    return out
