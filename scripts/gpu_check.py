"""The trainer on a GPU: the cpu-smoke-sized GRPO run on CUDA (bf16, LoRA, gradient checkpointing) against
a real grader on loopback, printing seconds per step and the rewards.

For a GPU machine whose image has torch, transformers, peft and accelerate but not trl, datasets or the
grader's packages (and no network): `make gpu-wheels` here collects those as wheels in .whl/, then on
the GPU machine

    scripts/gpu_check.sh            # installs .whl/*.whl into /tmp/site, then runs this file

The judge is the scripted one (tests/scripted_judge.py): the check is about the trainer on CUDA, so the
judge's answers should be known and instant. `--device cpu` runs the same script here, as a dry run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()

    import torch

    if a.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device visible to torch")
        return 1
    from scripts.local_stack import REPO, grader, judge
    from trainer.cli import main as trainer

    work = Path(a.workdir or tempfile.mkdtemp(prefix="gpu-check-"))
    gpu = a.device == "cuda"
    info = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if gpu else "cpu",
        "bf16": gpu and torch.cuda.is_bf16_supported(),
    }
    print(json.dumps(info), flush=True)
    with judge("scripted") as (judge_url, model), grader(judge_url, model, GRADER_JUDGE_MODE="logprob") as url:
        os.environ["RUBRIC_GRADER_URL"] = url
        trainer(
            [
                "prepare",
                "--source",
                str(REPO / "examples" / "heart_demo.jsonl"),
                "--output_dir",
                str(work / "data"),
                "--sft_fraction",
                "0.0",
                "--eval_fraction",
                "0.0",
                "--max_length_percentile",
                "100",
            ]
        )
        t0 = time.perf_counter()
        grpo = trainer(
            [
                "grpo",
                "--preset",
                "cpu-smoke",
                "--model_name_or_path",
                f"tiny:{work / 'tiny-model'}",
                "--dataset_path",
                str(work / "data"),
                "--output_dir",
                str(work / "grpo"),
                "--max_steps",
                str(a.steps),
                "--save_strategy",
                "no",
                "--use_cpu",
                str(not gpu),
                "--bf16",
                str(info["bf16"]),
                "--gradient_checkpointing",
                str(gpu),
            ]
        )
        total = time.perf_counter() - t0
    steps = [h for h in grpo.state.log_history if "step_time" in h]
    for h in steps:
        print(
            f"step {h.get('step', '?')}: {h['step_time']:.2f} s, reward {h.get('reward', float('nan')):.3f} "
            f"(std {h.get('reward_std', float('nan')):.3f}), judge calls {h.get('rubric/judge_calls', 0):.0f}",
            flush=True,
        )
    dtype = str(next(grpo.model.parameters()).dtype)
    placed = str(next(grpo.model.parameters()).device)
    print(json.dumps({**info, "steps": len(steps), "seconds_total": round(total, 1), "params": f"{dtype} on {placed}"}))
    ok = len(steps) == a.steps and (not gpu or placed.startswith("cuda"))
    adapter = work / "grpo" / "adapter_model.safetensors"
    print(f"adapter: {adapter} ({adapter.stat().st_size if adapter.exists() else 0} bytes)")
    return 0 if ok and adapter.exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
