"""`evaluate`: heart-related HealthBench with the LLM-judged protocol, honest CIs, comparisons, plots.

Resumable: responses and graded examples are appended to `responses.jsonl` and `graded.jsonl` in the
output directory as they are produced; a rerun skips what is already there (failed gradings are retried).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from shared import ClientSettings, GradeItem, GraderClient, JudgeOptions, Message, judge_template_label, read_jsonl
from trainer.evaluation.data import append_jsonl, load_jsonl_map, read_records, select
from trainer.evaluation.grade import grade_all, summarise
from trainer.evaluation.meta_eval import pairwise_metrics, physician_baselines
from trainer.evaluation.meta_records import build_meta_records
from trainer.evaluation.metrics import mcnemar_exact, paired_bootstrap
from trainer.evaluation.report import markdown, plot_rewards, plot_themes
from trainer.evaluation.responders import FileResponder, HFResponder, IdealResponder, OpenAIResponder, Responder
from trainer.html_report import from_graded_rows, write_report
from trainer.presets import run_command


@dataclass
class EvaluateArguments:
    data: str = field(default="healthbench", metadata={"help": "local JSONL, URL, or healthbench[-hard|-consensus]"})
    output_dir: str = "runs/eval"
    n: int | None = field(default=500, metadata={"help": "sample size after the heart filter (None: all)"})
    seed: int = 0
    heart_only: bool = True
    responder: str = field(default="ideal", metadata={"help": "ideal | file | openai | hf"})
    responses_file: str | None = field(default=None, metadata={"help": "JSONL of {prompt_id, response}"})
    model_name_or_path: str | None = field(default=None, metadata={"help": "hf: model; openai: served model"})
    adapter: str | None = field(default=None, metadata={"help": "hf: LoRA adapter to apply"})
    endpoint_base_url: str = "http://localhost:8001/v1"
    endpoint_api_key: str | None = None
    system_prompt: str | None = None
    max_new_tokens: int = 1024
    temperature: float = 0.0
    grader_url: str | None = field(default=None, metadata={"help": "default: RUBRIC_GRADER_URL"})
    judge_mode: str = field(
        default="verdict", metadata={"help": "verdict (HealthBench grades hard verdicts) | logprob | sample"}
    )
    judge_template_file: str | None = field(
        default=None,
        metadata={"help": "your own judge prompt (e.g. simple-evals' grader prompt), placeholders as the grader's"},
    )
    threshold: float = 0.5
    bootstrap: int = 1000
    grade_chunk: int = 8
    compare_with: str | None = field(default=None, metadata={"help": "another run's output_dir (paired tests)"})
    meta_eval: str | None = field(default=None, metadata={"help": "meta-eval JSONL with physician binary_labels"})
    meta_labels: str | None = field(
        default=None,
        metadata={"help": "labels JSONL pointing into --data (trainer/evaluation/meta_labels): the meta-eval set"},
    )
    max_meta: int | None = 200


# --responder NAME -> the option it needs (with what to say when it is missing) and how it is built
_RESPONDERS: dict[str, tuple[str | None, str, Callable[[EvaluateArguments], Responder]]] = {
    "ideal": (None, "", lambda a: IdealResponder()),
    "file": ("responses_file", "", lambda a: FileResponder(a.responses_file)),
    "openai": (
        "model_name_or_path",
        " (the served model name)",
        lambda a: OpenAIResponder(
            a.endpoint_base_url, a.model_name_or_path, a.endpoint_api_key,
            system=a.system_prompt, max_tokens=a.max_new_tokens, temperature=a.temperature,
        ),
    ),
    "hf": (
        "model_name_or_path",
        "",
        lambda a: HFResponder(
            a.model_name_or_path, a.adapter,
            system=a.system_prompt, max_new_tokens=a.max_new_tokens, temperature=a.temperature,
        ),
    ),
}  # fmt: skip


def make_responder(a: EvaluateArguments) -> Responder:
    if a.responder not in _RESPONDERS:
        raise SystemExit(f"--responder must be one of {', '.join(_RESPONDERS)}, got {a.responder!r}")
    needs, hint, build = _RESPONDERS[a.responder]
    if needs and not getattr(a, needs):
        raise SystemExit(f"--responder {a.responder} needs --{needs}{hint}")
    return build(a)


def _client(a: EvaluateArguments) -> GraderClient:
    return GraderClient(ClientSettings(url=a.grader_url) if a.grader_url else ClientSettings())


def _baseline_summary(baseline_dir: str) -> dict[str, Any] | None:
    path = Path(baseline_dir) / "results.json"
    return json.loads(path.read_text())["summary"] if path.exists() else None


def compare(rows: dict[str, dict[str, Any]], baseline_dir: str, threshold: float, seed: int) -> dict[str, Any]:
    base = load_jsonl_map(Path(baseline_dir) / "graded.jsonl")
    ids = sorted(k for k in rows if rows[k]["score"] is not None and (base.get(k) or {}).get("score") is not None)
    if not ids:
        raise SystemExit(f"no scored prompts shared with {baseline_dir}")
    a = [base[k]["score"] for k in ids]
    b = [rows[k]["score"] for k in ids]
    only_a = sum(x > threshold >= y for x, y in zip(a, b, strict=True))
    only_b = sum(y > threshold >= x for x, y in zip(a, b, strict=True))
    return {
        "baseline": baseline_dir,
        "n_paired": len(ids),
        "bootstrap": paired_bootstrap(a, b, seed=seed).__dict__,
        "mcnemar": {"b": only_a, "c": only_b, "p_value": mcnemar_exact(only_a, only_b)},
    }


def judge_options(a: EvaluateArguments) -> JudgeOptions:
    custom = Path(a.judge_template_file).read_text(encoding="utf-8") if a.judge_template_file else None
    return JudgeOptions(mode=a.judge_mode, template="healthbench", custom_template=custom)


def comparability(judge_template: str, judge: str) -> str:
    """Whether the numbers can be set beside published HealthBench results, said plainly."""
    if judge_template == "ours":
        return (
            "Judge prompt: the grader's own (not simple-evals' grader prompt), so these scores are not comparable "
            "with published HealthBench results; pass --judge_template_file with the reference prompt for that."
        )
    return (
        f"Judge prompt: a custom template ({judge_template}), judge {judge}. Comparable with published HealthBench "
        "results only if that file is simple-evals' grader prompt and the judge is the model the publication used "
        "(gpt-4.1-2025-04-14 for HealthBench); otherwise not."
    )


def meta_evaluate(a: EvaluateArguments, client: GraderClient, judge: JudgeOptions) -> dict[str, Any]:
    """The judge against physicians on HealthBench meta-eval records, by the reference's pairwise protocol,
    with the physicians' own pairwise agreement (each against their peers) beside it."""
    if a.meta_labels:
        records = build_meta_records(read_records(a.data, Path(a.output_dir)), read_jsonl(a.meta_labels))
    else:
        records = read_records(a.meta_eval or "", Path(a.output_dir))
    records = records[: a.max_meta]
    items = [
        GradeItem(
            id=str(i),
            prompt=[Message(role=m["role"], content=m["content"]) for m in r["prompt"]],
            response=r["completion"],
            rubric=[{"criterion": r["rubric"], "points": 1}],
        )
        for i, r in enumerate(records)
    ]
    resp = client.grade(items, scheme="healthbench", judge=judge) if items else None
    verdicts = [res.criteria[0].met for res in resp.results] if resp else []
    judged = [(r, m) for r, m in zip(records, verdicts, strict=True) if m is not None]
    model = pairwise_metrics(
        [bool(m) for _, m in judged],
        [[bool(x) for x in r["binary_labels"]] for r, _ in judged],
        [str(r.get("category", "")) for r, _ in judged],
    )
    return {
        "protocol": "pairwise against each labeller's label (simple-evals healthbench_meta_eval)",
        "n_records": len(records),
        "n_judged": len(judged),
        "n_failed": len(records) - len(judged),
        "judge": f"{resp.model} ({resp.mode.value})" if resp else None,
        "model": model,
        "labellers": sorted({p for r, _ in judged for p in r.get("anonymized_physician_ids") or []}),
        "physicians": physician_baselines([r for r, _ in judged]),
    }


def run_evaluate(a: EvaluateArguments) -> dict[str, Any]:
    out = Path(a.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    examples = select(read_records(a.data, out), heart_only=a.heart_only, n=a.n, seed=a.seed)
    if not examples:
        raise SystemExit("no examples left after the heart filter: check --data or pass --heart_only false")
    responder = make_responder(a)

    responses_path, graded_path = out / "responses.jsonl", out / "graded.jsonl"
    have = load_jsonl_map(responses_path)
    todo = [e for e in examples if e.prompt_id not in have]
    with tqdm(total=len(examples), initial=len(examples) - len(todo), desc="responses", unit="ex") as bar:
        for pid, text in responder.respond(todo):
            row = {"prompt_id": pid, "response": text}
            append_jsonl(responses_path, [row])
            have[pid] = row
            bar.update(1)
    responses = {k: v["response"] for k, v in have.items() if v.get("response")}
    examples = [e for e in examples if e.prompt_id in responses]

    graded = {k: v for k, v in load_jsonl_map(graded_path).items() if v["score"] is not None}
    todo = [e for e in examples if e.prompt_id not in graded]
    judge = judge_options(a)
    with _client(a) as client:
        with tqdm(total=len(examples), initial=len(examples) - len(todo), desc="grading", unit="ex") as bar:
            grade_all(client, todo, responses, judge, graded_path, chunk=a.grade_chunk, progress=bar.update)
        rows = load_jsonl_map(graded_path)
        rows = {e.prompt_id: rows[e.prompt_id] for e in examples if e.prompt_id in rows}
        meta = meta_evaluate(a, client, judge) if a.meta_eval or a.meta_labels else None

    summary = summarise(list(rows.values()), threshold=a.threshold, n_boot=a.bootstrap, seed=a.seed)
    results: dict[str, Any] = {
        "config": asdict(a) | {"grader_url": a.grader_url or ClientSettings().url},
        "model": responder.name,
        "judge": ", ".join(sorted({r.get("judge") or "?" for r in rows.values()})),
        "judge_template": judge_template_label(judge.custom_template),
        "seed": a.seed,
        "summary": summary,
    }
    results["comparability"] = comparability(results["judge_template"], results["judge"])
    if a.compare_with:
        results["comparison"] = compare(rows, a.compare_with, a.threshold, a.seed)
    if meta:
        results["meta_eval"] = meta
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    baseline = _baseline_summary(a.compare_with) if a.compare_with else None
    plot_themes(summary, out / "per_theme.png", baseline)
    plot_rewards(summary, out / "score_distribution.png", baseline)
    (out / "report.md").write_text(markdown(results))
    conversations = {e.prompt_id: [m.model_dump() for m in e.conversation] for e in examples}
    write_report(
        out / "report.html",
        f"Evaluation: {responder.name}",
        from_graded_rows(rows.values(), conversations, "healthbench"),
        summary={
            "model": responder.name,
            "judge": results["judge"],
            "examples": len(rows),
            "score": summary.get("overall", {}),
        },
        plots=[out / "per_theme.png", out / "score_distribution.png"],
    )
    return results


def main(argv: list[str]) -> dict[str, Any]:
    return run_command("evaluate", EvaluateArguments, run_evaluate, argv)
