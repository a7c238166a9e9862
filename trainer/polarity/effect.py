"""`python -m trainer polarity-effect`: how many rewards change, and by how much, when `auto` replaces `literal`.

Grades the team's samples (RaR-Medicine with its reference answers, HealthBench Hard with its ideal
completions, and each prompt once more with a short non-answer) under both modes through a grader: every
per-criterion scheme from one judge pass (`extra_schemes`; the second mode is all cache hits, the judged
text being the same), `rar_implicit` apart (its listed rubric changes, so it is judged again). It also
compares the two ways of scoring an avoid pitfall on the same judge: judged as written and inverted (what
the grader does) against rewritten into its fault form and judged literally (`to_fault_form`). Writes
`results.json` and `report.md`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared import (
    ClientSettings,
    GradeItem,
    GraderClient,
    Polarity,
    pitfall_polarity,
    prompt_from_record,
    rubric_from_record,
    to_fault_form,
)
from trainer._output import write_results
from trainer.presets import run_command

PER_CRITERION = ["hybrid", "complexity", "healthbench", "rar_explicit"]
NON_ANSWER = "I am not able to say much about this. Please ask a doctor."


@dataclass
class PolarityEffectArguments:
    shared_data: str = field(default=os.environ.get("RUBRIC_SHARED_DATA") or "../shared/data")
    grader_url: str | None = field(default=None, metadata={"help": "default: RUBRIC_GRADER_URL"})
    judge_mode: str = field(default="logprob", metadata={"help": "verdict | logprob | sample"})
    max_records: int | None = field(default=None, metadata={"help": "per sample, for a quick look"})
    judge_label: str = field(default="", metadata={"help": "which judge the grader uses, for the report"})
    output_dir: str = "runs/polarity-effect"


def _items(path: Path, response_of: Any, max_records: int | None) -> list[GradeItem]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if max_records is not None and n >= max_records:
            break
        rec = json.loads(line)
        rubric, prompt = rubric_from_record(rec), prompt_from_record(rec)
        for kind, response in (("reference", response_of(rec)), ("non-answer", NON_ANSWER)):
            if response:
                items.append(GradeItem(id=f"{n}/{kind}", prompt=prompt, response=response, rubric=rubric))
    return items


def samples(args: PolarityEffectArguments) -> dict[str, list[GradeItem]]:
    root = Path(args.shared_data)
    rar = root / "rar_medicine" / "rar_medicine_hf_schema_sample104.jsonl"
    hb = root / "healthbench" / "hard_sample50.jsonl"
    out = {}
    if rar.exists():
        out["rar_medicine_sample104"] = _items(rar, lambda r: r.get("reference_answer"), args.max_records)
    if hb.exists():
        ideal = lambda r: (r.get("ideal_completions_data") or {}).get("ideal_completion")  # noqa: E731
        out["healthbench_hard50"] = _items(hb, ideal, args.max_records)
    if not out:
        raise SystemExit(f"no samples under {root} (set RUBRIC_SHARED_DATA or --shared_data)")
    return out


def _change(a: list[float | None], b: list[float | None]) -> dict[str, Any]:
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    deltas = [y - x for x, y in pairs]
    changed = [d for d in deltas if abs(d) > 1e-9]
    return {
        "rewards": len(pairs),
        "changed": len(changed),
        "share_changed": len(changed) / len(pairs) if pairs else None,
        "mean_abs_change": sum(map(abs, deltas)) / len(deltas) if deltas else None,
        "mean_abs_change_where_changed": sum(map(abs, changed)) / len(changed) if changed else None,
        "max_abs_change": max(map(abs, deltas), default=None),
        "mean_change": sum(deltas) / len(deltas) if deltas else None,
        "up": sum(d > 0 for d in changed),
        "down": sum(d < 0 for d in changed),
    }


def _rewards(resp: Any, key: str | None) -> list[float | None]:
    if key is None:
        return [r.reward for r in resp.results]
    return [r.extra_rewards[key].reward for r in resp.results]


def scheme_effect(client: GraderClient, items: list[GradeItem], mode: str) -> dict[str, Any]:
    judge = {"mode": mode}
    extra = PER_CRITERION[1:]
    lit = client.grade(items, scheme=PER_CRITERION[0], judge=judge, extra_schemes=extra, pitfall_polarity="literal")
    auto = client.grade(items, scheme=PER_CRITERION[0], judge=judge, extra_schemes=extra, pitfall_polarity="auto")
    keys = {s: None if s == PER_CRITERION[0] else s for s in PER_CRITERION}
    out = {s: _change(_rewards(lit, k), _rewards(auto, k)) for s, k in keys.items()}
    imp = {m: client.grade(items, scheme="rar_implicit", judge=judge, pitfall_polarity=m) for m in ("literal", "auto")}
    out["rar_implicit"] = _change(_rewards(imp["literal"], None), _rewards(imp["auto"], None))
    flipped = [sum(c.penalised_when == "not_met" for c in r.criteria) for r in auto.results]
    return {
        "items": len(items),
        "items_with_a_flipped_pitfall": sum(f > 0 for f in flipped),
        "flipped_pitfalls": sum(flipped),
        "second_pass_cache_hits": auto.usage.cache_hits,
        "second_pass_judge_calls": auto.usage.judge_calls,
        "schemes": out,
    }


def invert_vs_rewrite(client: GraderClient, items: list[GradeItem], mode: str) -> dict[str, Any]:
    """P(triggered) of each avoid pitfall two ways on the same judge: 1 − P(met as written) and P(met of
    the fault form). A faithful judge gives the same number both ways; the spread says how far it is off."""
    rewritten, where = [], []
    for it in items:
        rubric, changed = list(it.rubric), []
        for i, c in enumerate(rubric):
            fault = to_fault_form(c.criterion) if c.points < 0 else None
            if fault is not None and pitfall_polarity(c.criterion, c.tags).polarity is Polarity.avoid:
                rubric[i] = c.model_copy(update={"criterion": fault})
                changed.append(i)
        if changed:
            rewritten.append(it.model_copy(update={"rubric": rubric}))
            where.append((it, changed))
    if not rewritten:
        return {"pitfalls": 0}
    judge = {"mode": mode}
    written = client.grade([it for it, _ in where], scheme="healthbench", judge=judge, pitfall_polarity="literal")
    faults = client.grade(rewritten, scheme="healthbench", judge=judge, pitfall_polarity="literal")
    both = [
        (it.id.rsplit("/", 1)[1], 1 - a.criteria[i].p_met, b.criteria[i].p_met)
        for (it, changed), a, b in zip(where, written.results, faults.results, strict=True)
        for i in changed
        if a.criteria[i].p_met is not None and b.criteria[i].p_met is not None
    ]
    by_kind = {
        kind: {
            "n": len(sel),
            "triggered_inverted": sum(x for _, x, _ in sel) / len(sel),
            "triggered_rewritten": sum(y for _, _, y in sel) / len(sel),
        }
        for kind in sorted({k for k, _, _ in both})
        if (sel := [row for row in both if row[0] == kind])
    }
    return {
        "pitfalls": sum(len(c) for _, c in where),
        "judged_both_ways": len(both),
        "mean_triggered_inverted": sum(x for _, x, _ in both) / len(both) if both else None,
        "mean_triggered_rewritten": sum(y for _, _, y in both) / len(both) if both else None,
        "mean_abs_disagreement": sum(abs(x - y) for _, x, y in both) / len(both) if both else None,
        "by_response": by_kind,
    }


def _f(x: Any, d: int = 3) -> str:
    return "—" if x is None else f"{x:.{d}f}" if isinstance(x, float) else str(x)


def report_md(results: dict[str, Any]) -> str:
    judge = results["config"]["judge_label"] or "the grader's judge"
    lines = [
        "# Pitfall polarity: what `auto` changes against `literal`",
        "",
        f"Judge: {judge}, mode {results['config']['judge_mode']}. Responses: each record's reference answer and a "
        "short non-answer.",
    ]
    for name, m in results["samples"].items():
        e = m["schemes"]
        lines += [
            "",
            f"## {name}: {e['items']} responses, {e['items_with_a_flipped_pitfall']} with an avoid pitfall "
            f"({e['flipped_pitfalls']} pitfalls flipped); second pass {e['second_pass_cache_hits']} cache hits, "
            f"{e['second_pass_judge_calls']} judge calls",
            "",
            "| scheme | rewards | changed | share | mean abs change where changed | max abs change | up / down |",
            "|---|---|---|---|---|---|---|",
        ]
        for s, c in e["schemes"].items():
            lines.append(
                f"| {s} | {c['rewards']} | {c['changed']} | {_f(c['share_changed'])} | "
                f"{_f(c['mean_abs_change_where_changed'])} | {_f(c['max_abs_change'])} | {c['up']} / {c['down']} |"
            )
        iv = m["invert_vs_rewrite"]
        if iv.get("pitfalls"):
            lines += [
                "",
                f"Invert or rewrite ({iv['judged_both_ways']} avoid pitfalls judged both ways): mean P(triggered) "
                f"inverted {_f(iv['mean_triggered_inverted'])}, rewritten {_f(iv['mean_triggered_rewritten'])}, "
                f"mean |difference| {_f(iv['mean_abs_disagreement'])}.",
            ]
            for kind, k in iv["by_response"].items():
                lines.append(
                    f"- {kind} ({k['n']}): inverted {_f(k['triggered_inverted'])}, "
                    f"rewritten {_f(k['triggered_rewritten'])}"
                )
    return "\n".join(lines) + "\n"


def run_polarity_effect(args: PolarityEffectArguments) -> dict[str, Any]:
    settings = ClientSettings(url=args.grader_url) if args.grader_url else ClientSettings()
    results: dict[str, Any] = {"config": asdict(args), "samples": {}}
    with GraderClient(settings) as client:
        for name, items in samples(args).items():
            results["samples"][name] = {
                "schemes": scheme_effect(client, items, args.judge_mode),
                "invert_vs_rewrite": invert_vs_rewrite(client, items, args.judge_mode),
            }
    write_results(args.output_dir, results, report_md)
    return results


def main(argv: list[str]) -> dict[str, Any]:
    return run_command("polarity-effect", PolarityEffectArguments, run_polarity_effect, argv, report_md)
