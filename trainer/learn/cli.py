"""`python -m trainer learn`: GRPO under each reward scheme from the same policy, prompts and seed, then every
trained adapter evaluated against the base: the paper's scheme comparison, at CPU scale by default.

Against the grader at RUBRIC_GRADER_URL; `make learn` (scripts/learn.py) starts the local SmolLM2 judge and a
grader on loopback first. Writes, under --workdir: report.md, report.html, results.json, curves.png, one
directory per scheme (adapter, checkpoints, log history, reward dumps) and eval/<policy>/. With the 135M
models the run shows whether the loop learns what the judge rewards, not medical quality.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainer.learn._stages import Stages
from trainer.presets import run_command

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("RUBRIC_SHARED_DATA", REPO.parent / "shared" / "data"))
SCHEMES = ["hybrid", "complexity", "rar_explicit", "rar_implicit"]
RAR_SAMPLE = SHARED_DATA / "rar_medicine" / "rar_medicine_hf_schema_sample104.jsonl"
HEALTHBENCH = [
    SHARED_DATA / "healthbench" / "hard_sample50.jsonl",
    SHARED_DATA / "healthbench" / "context_seeking_consensus104.jsonl",
]
DEMO = REPO / "examples" / "heart_demo.jsonl"


@dataclass
class LearnArguments:
    workdir: str = field(default="runs/learn", metadata={"help": "where the runs, evaluations and report go"})
    schemes: str = field(default=",".join(SCHEMES), metadata={"help": "comma-separated reward schemes"})
    steps: int = field(default=16, metadata={"help": "GRPO steps per scheme (one prompt each)"})
    prompts: int = field(default=4, metadata={"help": "distinct training prompts, cycled: each pass shows each once"})
    policy: str = field(default="gguf:smollm2", metadata={"help": "the policy every run starts from"})
    grpo_preset: str = field(default="cpu-learn", metadata={"help": "the grpo preset each run uses"})
    seed: int = 0
    data: str = field(default=str(RAR_SAMPLE), metadata={"help": "RaR-Medicine-style records to train on"})
    healthbench: list[str] = field(
        default_factory=lambda: [str(p) for p in HEALTHBENCH], metadata={"help": "HealthBench files to evaluate on"}
    )
    eval_n: int | None = field(default=None, metadata={"help": "evaluation records (default: every heart one)"})
    eval_max_new_tokens: int = field(default=96, metadata={"help": "as long as the training completions"})
    reuse_runs: bool = field(default=False, metadata={"help": "keep finished runs (log_history.json), evaluate only"})
    judge_label: str = field(default="SmolLM2-135M-Instruct Q4_1 (llama.cpp)", metadata={"help": "for the report"})


def machine() -> str:
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 2**20:.0f} GiB RAM"
    return f"{platform.machine()}, {os.cpu_count()} cores{mem}, no GPU"


def summarise_run(out: Path, n_prompts: int, seed: int) -> dict[str, Any]:
    """One finished run's curves, its reward change and its nulls, from the files it left in `out`."""
    from shared import read_jsonl
    from trainer.learn._curves import dumped_rewards, step_series, window_change
    from trainer.learn._signals import run_signals

    history = json.loads((out / "log_history.json").read_text())
    calls = [h["rubric/judge_calls"] for h in history if "rubric/judge_calls" in h]
    return {
        "series": step_series(history),
        # the first pass over the prompts against the last: the same prompts, so a change is learning
        "change": window_change(dumped_rewards(out / "rewards"), n_prompts, seed=seed),
        "null_rewards": sum(
            1 for f in (out / "rewards").glob("batch-*.jsonl") for r in read_jsonl(f) if r.get("reward") is None
        ),
        "judge_calls_per_step": sum(calls) / len(calls) if calls else None,
        "train_seconds": next((h["train_runtime"] for h in history if "train_runtime" in h), None),
        "criteria": run_signals(out / "rewards", n_prompts),
    }


def html_report(work: Path, results: dict[str, Any]) -> Path:
    """report.html: every scheme's last pass over the prompts (completions, verdicts, rewards), browsable."""
    from trainer.html_report import from_dump_rows, write_report
    from trainer.learn._signals import dump_batches

    examples = []
    for scheme in results["runs"]:
        batches = dump_batches(work / scheme / "rewards")
        last = [row for rows in batches[-results["window"] :] for row in rows]
        examples += from_dump_rows(last, scheme, label=f"{scheme}/")
    summary = {
        "policy": results["config"]["policy"],
        "judge": results["judge"],
        "shown": f"the last {results['window']} steps of each scheme",
        "machine": results["machine"],
    }
    return write_report(work / "report.html", "GRPO under each reward scheme (make learn)", examples, summary,
                        plots=[work / "curves.png"])  # fmt: skip


def run_learn(a: LearnArguments) -> dict[str, Any]:
    from shared import read_jsonl
    from trainer.evaluation.cli import main as evaluate
    from trainer.grpo.cli import main as grpo
    from trainer.learn._data import concat_jsonl, training_rows, write_rows
    from trainer.learn._eval import expected_summary
    from trainer.learn._report import markdown, plot_curves
    from trainer.presets import preset_defaults

    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log = Stages(work / "learn.log", "learn")
    log.say(f"grader: {os.environ.get('RUBRIC_GRADER_URL', '(RUBRIC_GRADER_URL unset)')}")
    schemes = [s for s in a.schemes.split(",") if s]
    source = Path(a.data)
    if not source.exists():
        log.say(f"no records at {source}: training on the demo records (examples/heart_demo.jsonl)")
        source = DEMO
    rows, picked = training_rows(read_jsonl(source), a.prompts, seed=a.seed)
    train = write_rows(rows, work / "data" / "train.jsonl")
    eval_sources = [Path(p) for p in a.healthbench if Path(p).exists()]
    eval_data = concat_jsonl(eval_sources, work / "data" / "healthbench_eval.jsonl") if eval_sources else None
    log.say(f"{len(rows)} training prompts ({picked['heart']} heart-related, {picked['topped_up']} topped up)")
    num_generations = int(preset_defaults(a.grpo_preset, "grpo").get("num_generations", 6))

    runs: dict[str, dict[str, Any]] = {}
    evaluation: dict[str, Any] = {}
    for scheme in schemes:
        out = work / scheme
        if a.reuse_runs and (out / "log_history.json").exists():
            runs[scheme] = summarise_run(out, len(rows), a.seed)
            log.say(f"{scheme}: reusing the finished run in {out}")
            continue
        with log.stage(f"grpo {scheme}"):
            t = grpo(
                [
                    "--preset",
                    a.grpo_preset,
                    "--model_name_or_path",
                    a.policy,
                    "--dataset_path",
                    str(train),
                    "--reward_scheme",
                    scheme,
                    "--max_steps",
                    str(a.steps),
                    "--seed",
                    str(a.seed),
                    "--output_dir",
                    str(out),
                    "--reward_dump_dir",
                    str(out / "rewards"),
                ]
            )
        (out / "log_history.json").write_text(json.dumps(t.state.log_history, indent=1))
        runs[scheme] = summarise_run(out, len(rows), a.seed)
        c = runs[scheme]["change"]
        log.say(f"{scheme}: reward {c['first']:.3f} -> {c['last']:.3f} (change {c['change']:+.3f}, 95% CI {c['ci95']})")
        del t
    # from each run's own record, so a report over reused runs still says what training cost
    train_minutes = sum(r["train_seconds"] or 0.0 for r in runs.values()) / 60

    t_eval = time.perf_counter()
    if eval_data is not None:
        policies = {"base": None, **{s: str(work / s) for s in schemes}}
        base_dir = work / "eval" / "base"
        for name, adapter in policies.items():
            args = [
                "--data",
                str(eval_data),
                "--responder",
                "hf",
                "--model_name_or_path",
                a.policy,
                "--max_new_tokens",
                str(a.eval_max_new_tokens),
                "--judge_mode",
                "logprob",
                "--seed",
                str(a.seed),
                "--output_dir",
                str(work / "eval" / name),
            ]
            if a.eval_n:
                args += ["--n", str(a.eval_n)]  # else evaluate's default: every heart record (up to 500)
            if adapter:
                args += ["--adapter", adapter, "--compare_with", str(base_dir)]
            with log.stage(f"evaluate {name}"):
                evaluation[name] = evaluate(args)
            evaluation[name]["expected"] = expected_summary(
                work / "eval" / name, base_dir if adapter else None, seed=a.seed
            )
            s, e = evaluation[name]["summary"]["overall"], evaluation[name]["expected"]
            log.say(f"evaluate {name}: score {s['mean']:.3f}, expected score {e['mean']:.3f} (95% CI {e['ci95']})")
    else:
        log.say("no HealthBench sample beside the checkout: evaluation skipped (set RUBRIC_SHARED_DATA)")
    eval_minutes = (time.perf_counter() - t_eval) / 60

    results = {
        "config": {
            **asdict(a),
            "preset": a.grpo_preset,
            "num_generations": num_generations,
            "eval_max_new_tokens": a.eval_max_new_tokens,
        },
        "data": {
            "train_source": str(source),
            "train_prompts": len(rows),
            **picked,
            "eval_source": ", ".join(str(p) for p in eval_sources) or None,
            "eval_records": next(iter(evaluation.values()))["summary"]["n_examples"] if evaluation else 0,
        },
        "judge": a.judge_label,
        "machine": machine(),
        "window": len(rows),
        "wall_minutes": train_minutes + eval_minutes,
        "train_minutes": train_minutes,
        "eval_minutes": eval_minutes,
        "runs": runs,
        "evaluation": {
            k: {"summary": v["summary"], "comparison": v.get("comparison"), "expected": v["expected"]}
            for k, v in evaluation.items()
        },
        "plots": {"curves": plot_curves(runs, work / "curves.png").name},
    }
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (work / "report.md").write_text(markdown(results))
    html_report(work, results)
    log.say(f"report: {work / 'report.md'}; the libraries' own output: {log.log_path}")

    return results


def main(argv: list[str]) -> dict[str, Any]:
    from trainer.learn._report import markdown

    return run_command("learn", LearnArguments, run_learn, argv, markdown)
