"""The whole pipeline on a CPU, offline: judge + grader + prepare + SFT + GRPO (cpu-smoke preset).

    python scripts/smoke.py                 # real judge: llama.cpp + SmolLM2-135M (make install-judge)
    python scripts/smoke.py --judge scripted

Prints the per-step timings the trainer logged. The tiny policy and tiny judge show the plumbing only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import REPO, grader, judge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--judge", default="llama", choices=["llama", "scripted"])
    ap.add_argument("--mode", default="logprob", choices=["verdict", "logprob", "sample"])
    ap.add_argument("--source", default=str(REPO / "examples" / "heart_demo.jsonl"))
    ap.add_argument("--workdir", default="runs/smoke")
    ap.add_argument("--steps", type=int, default=2)
    a = ap.parse_args()

    from trainer.cli import main as trainer

    work = Path(a.workdir)
    common = [
        "--preset",
        "cpu-smoke",
        "--model_name_or_path",
        f"tiny:{work / 'tiny-model'}",
        "--dataset_path",
        str(work / "data"),
        "--max_steps",
        str(a.steps),
    ]
    env = {"GRADER_JUDGE_MODE": a.mode}
    if a.judge == "llama":
        # SmolLM2-135M rarely answers YES/NO, so its answer mass is a few percent: the real check would make
        # every reward a typed null. The smoke run shows the plumbing, so it accepts any mass; a real judge
        # keeps the default (GRADER_JUDGE_MIN_ANSWER_MASS=0.5).
        env["GRADER_JUDGE_MIN_ANSWER_MASS"] = "0"
    with judge(a.judge) as (judge_url, model), grader(judge_url, model, **env) as url:
        os.environ["RUBRIC_GRADER_URL"] = url
        trainer(
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
        t0 = time.perf_counter()
        sft = trainer(["sft", *common, "--output_dir", str(work / "sft")])
        t_sft = time.perf_counter() - t0
        t0 = time.perf_counter()
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
    print(f"\nsmoke ({a.judge} judge, {a.mode}):")
    print(f"  sft : {sft.state.global_step} steps in {t_sft:.1f} s (load included)")
    print(
        f"  grpo: {grpo.state.global_step} steps in {t_grpo:.1f} s (load included); per step: "
        + ", ".join(
            f"{h['step_time']:.2f} s (reward {h.get('reward', float('nan')):.2f}, "
            f"judge calls {h.get('rubric/judge_calls', 0):.0f}, "
            f"grader {h.get('rubric/grader_latency_s', 0):.2f} s)"
            for h in steps
        )
    )
    print(f"  adapter: {work / 'grpo' / 'adapter_model.safetensors'}")


if __name__ == "__main__":
    main()
