"""The whole pipeline on a CPU, offline: judge + grader + prepare + SFT + GRPO (cpu-smoke preset).

    python scripts/smoke.py                 # real judge: llama.cpp + SmolLM2-135M (make install-judge)
    python scripts/smoke.py --judge scripted

Prints one line per stage and the per-step timings the trainer logged; everything the libraries print
(warnings, progress bars, per-step dicts) goes to <workdir>/smoke.log. The tiny policy and tiny judge
show the plumbing only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import REPO, SMOLLM2_GRADER_ENV, grader, judge
from trainer.learn._stages import Stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--judge", default="llama", choices=["llama", "scripted"])
    ap.add_argument("--mode", default="logprob", choices=["verdict", "logprob", "sample"])
    ap.add_argument("--source", default=str(REPO / "examples" / "heart_demo.jsonl"))
    ap.add_argument("--workdir", default="runs/smoke")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument(
        "--policy", default="gguf:smollm2", help="model spec: gguf:smollm2 (pretrained), tiny:DIR (random), a path"
    )
    a = ap.parse_args()

    from trainer.cli import main as trainer

    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    stages = Stages(work / "smoke.log", "smoke")
    stage = stages.stage

    common = [
        "--preset",
        "cpu-smoke",
        "--model_name_or_path",
        a.policy,
        "--dataset_path",
        str(work / "data"),
        "--max_steps",
        str(a.steps),
    ]
    env = {"GRADER_JUDGE_MODE": a.mode}
    if a.judge == "llama":
        # SmolLM2-135M rarely answers YES/NO, so its answer mass is a few percent: the real check would make
        # every reward a typed null. The smoke run shows the loop, so it accepts any mass (and looks at the top
        # 20 alternatives); a real judge keeps the default (GRADER_JUDGE_MIN_ANSWER_MASS=0.5).
        env |= SMOLLM2_GRADER_ENV
    with judge(a.judge) as (judge_url, model), grader(judge_url, model, **env) as url:
        print(f"[smoke] judge ({a.judge}) and grader ready: {url}", flush=True)
        os.environ["RUBRIC_GRADER_URL"] = url
        with stage("prepare"):
            prepared = trainer(
                [
                    "prepare",
                    "--source",
                    a.source,
                    "--output_dir",
                    str(work / "data"),
                    "--sft_fraction",
                    "0.3",
                    "--eval_fraction",
                    "0.0",
                    "--max_length_percentile",
                    "100",
                ]
            )
        print(f"[smoke] prepare: {prepared['heart_related']} heart-related records, splits {prepared['splits']}")
        t0 = time.perf_counter()
        with stage("sft"):
            sft = trainer(["sft", *common, "--output_dir", str(work / "sft")])
        t_sft = time.perf_counter() - t0
        t0 = time.perf_counter()
        with stage("grpo"):
            grpo = trainer(
                [
                    "grpo",
                    *common,
                    "--output_dir",
                    str(work / "grpo"),
                    "--sft_adapter",
                    str(work / "sft"),
                    "--save_strategy",
                    "no",
                ]
            )
        t_grpo = time.perf_counter() - t0
    steps = [h for h in grpo.state.log_history if "step_time" in h]
    print(f"\nsmoke ({a.judge} judge, {a.mode}; policy {a.policy}):")
    print(f"  sft : {sft.state.global_step} steps in {t_sft:.1f} s (load included)")
    print(
        f"  grpo: {grpo.state.global_step} steps in {t_grpo:.1f} s (load included); per step: "
        + ", ".join(
            f"{h['step_time']:.2f} s (reward {h.get('reward', float('nan')):.2f}, "
            f"judge calls {h.get('rubric/judge_calls', 0):.0f}; {step_split(h)})"
            for h in steps
        )
    )
    print(f"  adapter: {work / 'grpo' / 'adapter_model.safetensors'}")
    completions = list(getattr(grpo, "_logs", {}).get("completion", []))  # TRL's table of recent completions
    if completions:
        from shared.rewards import completion_text

        print(f"  a completion of the last step: {completion_text(completions[-1])[:300]!r}")
    print(f"  the libraries' own output: {stages.log_path}")


def step_split(h: dict) -> str:
    """Where a logged GRPO step's time went (trainer/grpo/timed.py)."""
    return (
        f"generation {h.get('time/generation_s', float('nan')):.2f} s, "
        f"judging {h.get('time/judging_s', float('nan')):.2f} s, "
        f"optimisation {h.get('time/optimisation_s', float('nan')):.2f} s"
    )


if __name__ == "__main__":
    main()
