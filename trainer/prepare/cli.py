"""`prepare`: heart-focused GRPO/SFT/eval sets from RaR-Medicine-style records, deterministic given a seed."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared import (
    Criterion,
    Polarity,
    RubricFormatError,
    pitfall_polarity,
    prompt_from_record,
    rubric_from_record,
    to_fault_form,
)
from trainer.heart import THEMES, Classifier, HeartLabel, classify_lexical, make_classifier
from trainer.prepare._splits import AUDIT, FILES
from trainer.prepare.sources import load_records
from trainer.presets import parse

log = logging.getLogger("trainer")

HEART_SYSTEM_PROMPT = (
    "You are a careful medical assistant with particular expertise in cardiology. Answer the question "
    "accurately and completely, reason from the clinical details given, state the key diagnosis or "
    "recommendation clearly, flag red-flag symptoms that need emergency care, and avoid unsafe advice."
)


@dataclass
class PrepareArguments:
    source: str = field(
        default="ScaleAI/RaR-Medicine",
        metadata={"help": "hub dataset id, or a local .jsonl/.json/.parquet file or directory"},
    )
    splits: list[str] = field(default_factory=lambda: ["train"], metadata={"help": "hub splits to read"})
    output_dir: str = field(default="data/prepared")
    seed: int = 42
    classifier: str = field(
        default="auto",
        metadata={"help": "auto (combined with SmolLM2 installed, else lexical) | lexical | learned | combined | llm"},
    )
    llm_base_url: str = field(default="http://localhost:8000/v1", metadata={"help": "judge endpoint for llm"})
    llm_model: str = "judge"
    llm_api_key: str | None = None
    reclassify: bool = field(default=False, metadata={"help": "ignore heart labels already in the records"})
    min_grpo_criteria: int = field(default=4, metadata={"help": "GRPO prompts need more than 3 criteria"})
    max_length_percentile: float = field(default=95.0, metadata={"help": "drop prompts above this length pct"})
    sft_fraction: float = field(default=0.2, metadata={"help": "share of heart records kept for SFT"})
    eval_fraction: float = field(default=0.1, metadata={"help": "share held out for evaluation"})
    max_records: int | None = None
    normalise_pitfalls: bool = field(
        default=False,
        metadata={
            "help": "rewrite pitfalls phrased as avoidance ('Does not mention unrelated nerves') into their fault "
            "form ('Mentions unrelated nerves'), every change in pitfall_audit.jsonl"
        },
    )
    system_prompt: str = HEART_SYSTEM_PROMPT


def record_id(question: str) -> str:
    return hashlib.sha1(question.strip().encode()).hexdigest()[:16]


def _given_label(record: dict[str, Any]) -> HeartLabel | None:
    related = record.get("heart_related")
    if related is None:
        return None
    yes = str(related).strip().upper() in ("YES", "TRUE", "1")
    theme = record.get("heart_theme") if record.get("heart_theme") in THEMES else None
    evidence = classify_lexical(_question(record), answer=record.get("reference_answer")).evidence if yes else ()
    return HeartLabel(yes and theme is not None, theme if yes else None, evidence, method="given")


def _question(record: dict[str, Any]) -> str:
    if record.get("question"):
        return str(record["question"])
    return "\n".join(m.content for m in prompt_from_record(record) if m.role == "user")


def _rubric_items(criteria: list[Criterion], normalise: bool, audit: list[dict[str, Any]], rid: str) -> list[dict]:
    """The rubric as GRPO rows carry it: each pitfall with the polarity the rules read (the RaR title, which
    the rows drop, can decide it), and under `normalise` an avoid pitfall rewritten into its fault form."""
    items: list[dict[str, Any]] = []
    for i, c in enumerate(criteria):
        item: dict[str, Any] = {"criterion": c.criterion, "points": c.points}
        if c.points < 0:
            call = pitfall_polarity(c.criterion, c.tags)
            if call.polarity is not Polarity.ambiguous:
                item["polarity"] = call.polarity.value
            fault = to_fault_form(c.criterion) if normalise and call.polarity is Polarity.avoid else None
            if fault is not None:
                item.update(criterion=fault, polarity=Polarity.fault.value)
            if normalise and call.polarity is not Polarity.fault:
                audit.append(
                    {
                        "id": rid,
                        "index": i,
                        "polarity": call.polarity.value,
                        "rule": call.rule,
                        "action": "rewritten" if fault is not None else "kept",
                        "before": c.criterion,
                        "after": item["criterion"],
                    }
                )
        items.append(item)
    return items


def percentile(values: list[int], pct: float) -> float:
    if not values:
        return math.inf
    s = sorted(values)
    k = (len(s) - 1) * pct / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def prepare(
    records: Iterable[tuple[str, dict[str, Any]]],
    args: PrepareArguments,
    classify: Classifier = classify_lexical,
) -> dict[str, Any]:
    """Classify, filter, split and write the prepared directory (see `FILES`); warn about empty splits."""
    rows: dict[str, dict[str, Any]] = {}
    audit: dict[str, list[dict[str, Any]]] = {}
    stats: Counter[str] = Counter()
    for split, rec in records:
        if args.max_records is not None and stats["read"] >= args.max_records:
            break
        stats["read"] += 1
        try:
            criteria = rubric_from_record(rec)
            question = _question(rec)
        except (RubricFormatError, KeyError, ValueError):
            stats["unreadable"] += 1
            continue
        label = None if args.reclassify else _given_label(rec)
        label = label or classify(question, answer=rec.get("reference_answer"))
        if not label.heart_related:
            continue
        rid = record_id(question)
        if rid in rows:
            stats["duplicates"] += 1
            continue
        user_turns = [m.model_dump() for m in prompt_from_record(rec) if m.role != "system"]
        rows[rid] = {
            "id": rid,
            "source_split": split,
            "question": question,
            "reference_answer": rec.get("reference_answer"),
            "prompt": [{"role": "system", "content": args.system_prompt}, *user_turns],
            "rubric": _rubric_items(criteria, args.normalise_pitfalls, audit.setdefault(rid, []), rid),
            "n_criteria": len(criteria),
            "heart_theme": label.theme,
            "heart_evidence": list(label.evidence),
            "heart_method": label.method,
        }
    stats["heart_related"] = len(rows)
    lengths = {rid: len(r["question"]) for rid, r in rows.items()}
    cutoff = percentile(list(lengths.values()), args.max_length_percentile)
    kept = sorted(rid for rid in rows if lengths[rid] <= cutoff)
    stats["dropped_length"] = len(rows) - len(kept)

    rng = random.Random(args.seed)
    rng.shuffle(kept)
    # hub validation/test records go to eval; from the rest hold out eval_fraction, then SFT, then GRPO
    eval_ids = [r for r in kept if rows[r]["source_split"] in ("validation", "test")]
    held = set(eval_ids)
    pool = [r for r in kept if r not in held]
    n_eval = round(len(pool) * args.eval_fraction) if not eval_ids else 0
    eval_ids += pool[:n_eval]
    pool = pool[n_eval:]
    n_sft = round(len(pool) * args.sft_fraction)
    sft_ids = [r for r in pool if rows[r]["reference_answer"]][:n_sft]
    sft_set = set(sft_ids)
    rest = [r for r in pool if r not in sft_set]
    grpo_ids = [r for r in rest if rows[r]["n_criteria"] >= args.min_grpo_criteria]
    stats["dropped_few_criteria"] = len(rest) - len(grpo_ids)

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in ("grpo.jsonl", "eval.jsonl", AUDIT, *FILES.values()):  # a rerun must not leave stale files behind
        (out / old).unlink(missing_ok=True)
    _write(out / FILES["grpo"], (rows[r] for r in grpo_ids))
    if sft_ids:
        _write(out / FILES["sft"], (_sft_row(rows[r]) for r in sft_ids))
    if eval_ids:  # an empty test file would make `datasets` fail on the whole directory
        _write(out / FILES["eval"], (rows[r] for r in eval_ids))
    for name, ids, why in (
        ("grpo", grpo_ids, "no GRPO prompts: loosen --min_grpo_criteria or use more source records"),
        ("sft", sft_ids, "no SFT examples (records need a reference_answer; --sft_fraction > 0)"),
        ("eval", eval_ids, "no held-out eval records (--eval_fraction > 0, or hub validation/test splits)"),
    ):
        if not ids:
            log.warning("prepare: %s split is empty: %s", name, why)
    changes = [a for r in kept for a in audit.get(r, [])]
    if args.normalise_pitfalls:
        _write(out / AUDIT, changes)
    polarities = Counter(
        c.get("polarity", Polarity.ambiguous.value) for r in kept for c in rows[r]["rubric"] if c["points"] < 0
    )
    per_theme = {t: 0 for t in THEMES}
    for r in rows.values():
        per_theme[r["heart_theme"]] += 1
    summary = {
        **dict(stats),
        "length_cutoff_chars": None if math.isinf(cutoff) else cutoff,
        "splits": {"grpo": len(grpo_ids), "sft": len(sft_ids), "eval": len(eval_ids)},
        "per_theme": per_theme,
        "pitfalls": {
            "polarity": dict(polarities),
            **({"rewritten": sum(a["action"] == "rewritten" for a in changes)} if args.normalise_pitfalls else {}),
        },
        "config": asdict(args),
    }
    (out / "stats.json").write_text(json.dumps(summary, indent=2))
    return summary


# The prepared directory loads as a Hugging Face dataset (`datasets.load_dataset(dir)`: train and test
# splits; `trl grpo --dataset_name <dir>` trains on train), and `python -m trainer` reads the same files.


def _sft_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "prompt": row["prompt"],
        "completion": [{"role": "assistant", "content": row["reference_answer"]}],
        "heart_theme": row["heart_theme"],
    }


def _write(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def run_prepare(args: PrepareArguments) -> dict[str, Any]:
    classify: Classifier = make_classifier(args.classifier, args)
    return prepare(load_records(args.source, args.splits), args, classify)


def main(argv: list[str]) -> dict[str, Any]:
    (args,) = parse("prepare", (PrepareArguments,), argv)
    summary = run_prepare(args)
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
    return summary
