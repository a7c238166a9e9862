"""`make learn`: the paper's scheme comparison at CPU scale, offline, in about an hour on 2 cores.

    python scripts/learn.py                       # hybrid, complexity, rar_explicit, rar_implicit
    python scripts/learn.py --steps 8 --schemes hybrid,rar_explicit --eval-n 4   # a quick look

The pretrained SmolLM2-135M-Instruct policy (gguf:smollm2), the local SmolLM2 judge behind llama.cpp's
server and the grader, prompts from the team's RaR-Medicine sample (its heart subset first, topped up with
other records; the demo records where the sample is absent). One GRPO run per scheme from the same base,
seed and prompts; then the base and every trained adapter answer the held-out heart-related HealthBench
records and are graded with the existing evaluation. Writes, under --workdir: report.md, results.json,
curves.png, one directory per scheme (adapter, checkpoints, log history, reward dumps) and eval/<policy>/.
Both models are 135M parameters: the run shows whether the loop learns what the judge rewards, not
medical quality.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts._stages import Stages
from scripts.local_stack import REPO, SHARED_DATA, SMOLLM2_GRADER_ENV, grader, judge

SCHEMES = ["hybrid", "complexity", "rar_explicit", "rar_implicit"]
RAR_SAMPLE = SHARED_DATA / "rar_medicine" / "rar_medicine_hf_schema_sample104.jsonl"
HEALTHBENCH = [
    SHARED_DATA / "healthbench" / "hard_sample50.jsonl",
    SHARED_DATA / "healthbench" / "context_seeking_consensus104.jsonl",
]


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="runs/learn")
    ap.add_argument("--schemes", default=",".join(SCHEMES))
    ap.add_argument("--steps", type=int, default=16, help="GRPO steps per scheme (one prompt each)")
    ap.add_argument(
        "--prompts", type=int, default=4, help="distinct training prompts, cycled: each pass shows every one once"
    )
    ap.add_argument("--policy", default="gguf:smollm2")
    ap.add_argument("--preset", default="cpu-learn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(RAR_SAMPLE), help="RaR-Medicine-style records to train on")
    ap.add_argument("--eval-n", type=int, default=None, help="evaluation records (default: every heart one)")
    ap.add_argument("--eval-max-new-tokens", type=int, default=96, help="as long as the training completions")
    ap.add_argument(
        "--reuse-runs", action="store_true", help="keep finished runs (their log_history.json) and evaluate only"
    )
    a = ap.parse_args()

    from shared import read_jsonl
    from trainer.cli import main as trainer
    from trainer.cli import preset_defaults
    from trainer.learn._data import concat_jsonl, training_rows, write_rows
    from trainer.learn._eval import expected_summary
    from trainer.learn._report import markdown, plot_curves

    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log = Stages(work / "learn.log", "learn")
    schemes = [s for s in a.schemes.split(",") if s]
    source = Path(a.data)
    if not source.exists():
        log.say(f"no records at {source}: training on the demo records (examples/heart_demo.jsonl)")
        source = REPO / "examples" / "heart_demo.jsonl"
    rows, picked = training_rows(read_jsonl(source), a.prompts, seed=a.seed)
    train = write_rows(rows, work / "data" / "train.jsonl")
    eval_sources = [p for p in HEALTHBENCH if p.exists()]
    eval_data = concat_jsonl(eval_sources, work / "data" / "healthbench_eval.jsonl") if eval_sources else None
    log.say(f"{len(rows)} training prompts ({picked['heart']} heart-related, {picked['topped_up']} topped up)")
    num_generations = int(preset_defaults(a.preset, "grpo").get("num_generations", 6))

    runs: dict[str, dict[str, Any]] = {}
    evaluation: dict[str, Any] = {}
    with judge("llama") as (judge_url, model), grader(judge_url, model, **SMOLLM2_GRADER_ENV) as url:
        os.environ["RUBRIC_GRADER_URL"] = url
        log.say(f"judge and grader ready: {url}")
        for scheme in schemes:
            out = work / scheme
            if a.reuse_runs and (out / "log_history.json").exists():
                runs[scheme] = summarise_run(out, len(rows), a.seed)
                log.say(f"{scheme}: reusing the finished run in {out}")
                continue
            with log.stage(f"grpo {scheme}"):
                t = trainer(
                    [
                        "grpo",
                        "--preset",
                        a.preset,
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
            log.say(
                f"{scheme}: reward {c['first']:.3f} -> {c['last']:.3f} (change {c['change']:+.3f}, 95% CI {c['ci95']})"
            )
            del t
        # from each run's own record, so a report over reused runs still says what training cost
        train_minutes = sum(r["train_seconds"] or 0.0 for r in runs.values()) / 60

        t_eval = time.perf_counter()
        if eval_data is not None:
            policies = {"base": None, **{s: str(work / s) for s in schemes}}
            base_dir = work / "eval" / "base"
            for name, adapter in policies.items():
                args = [
                    "evaluate",
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
                    evaluation[name] = trainer(args)
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
            **vars(a),
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
        "judge": "SmolLM2-135M-Instruct Q4_1 (llama.cpp)",
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
    print(markdown(results))
    log.say(f"report: {work / 'report.md'}; the libraries' own output: {log.log_path}")


if __name__ == "__main__":
    main()
