"""A GRPO run that outlives a grader restart: training must go on and every step keep its rewards.

    python scripts/restart_check.py --outage 30 --steps 4

A tiny policy (cpu-smoke) trains against a real grader process (scripted judge behind it). After the
first step the grader is killed; it comes back on the same port `--outage` seconds later. The reward
function's client waits the outage out (capped backoff until its deadline), so the next step is late,
not lost. Prints one line per step (reward, items scored, items lost) and a JSON summary; exit 0 when
every step's rewards are all there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.local_stack import REPO, free_port, judge, start_grader


def run(outage_s: float, steps: int, workdir: Path) -> dict[str, Any]:
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOTrainer

    from shared import ClientSettings
    from shared.rewards import RewardSettings, make_rubric_reward
    from trainer.cli import main as trainer_cli
    from trainer.grpo import cpu_grpo_config
    from trainer.models.tiny import build_tiny_model
    from trainer.prepare import load_jsonl_dataset

    data = workdir / "data"
    trainer_cli(
        [
            "prepare",
            "--source",
            str(REPO / "examples" / "heart_demo.jsonl"),
            "--output_dir",
            str(data),
            "--sft_fraction",
            "0",
            "--eval_fraction",
            "0",
            "--max_length_percentile",
            "100",
        ]
    )
    model_dir = build_tiny_model(workdir / "tiny-model")
    port = free_port()
    events: dict[str, float] = {}
    calls: list[dict[str, Any]] = []

    with judge("scripted") as (judge_url, model):
        proc = {"grader": start_grader(judge_url, model, port, GRADER_JUDGE_MODE="logprob")}

        def restart_later() -> None:
            time.sleep(outage_s)
            proc["grader"] = start_grader(judge_url, model, port, GRADER_JUDGE_MODE="logprob")
            events["grader_back_at"] = time.monotonic()

        class KillGraderAfterFirstStep(TrainerCallback):  # type: ignore[misc]
            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if state.global_step == 1:
                    proc["grader"].kill()
                    proc["grader"].wait()
                    events["grader_killed_at"] = time.monotonic()
                    threading.Thread(target=restart_later, daemon=True).start()

        def on_response(resp: Any) -> None:
            calls.append(
                {
                    "at": time.monotonic(),
                    "scored": sum(r.reward is not None for r in resp.results),
                    "lost": sum(r.error is not None and r.error.type == "grader_unavailable" for r in resp.results),
                    "items": len(resp.results),
                }
            )

        client = ClientSettings(url=f"http://127.0.0.1:{port}", backoff_max_s=5.0, deadline_s=outage_s + 120)
        reward = make_rubric_reward(RewardSettings(scheme="hybrid"), client, on_response=on_response)
        args = cpu_grpo_config(workdir / "grpo", max_steps=steps, max_completion_length=16, learning_rate=1e-4)
        t0 = time.monotonic()
        try:
            trainer = GRPOTrainer(
                model=str(model_dir),
                reward_funcs=reward,
                args=args,
                train_dataset=load_jsonl_dataset(data, "grpo").select_columns(["prompt", "rubric"]),
                processing_class=AutoTokenizer.from_pretrained(model_dir, padding_side="left"),
                callbacks=[KillGraderAfterFirstStep()],
            )
            trainer.train()
        finally:
            proc["grader"].kill()
    logged = [h for h in trainer.state.log_history if "reward" in h and "step_time" in h]
    rows = [
        {
            "step": h["step"],
            "reward": h["reward"],
            "null_frac": h.get("rubric/null_frac"),
            "lost_items": h.get("rubric/lost_items"),
            "step_time_s": round(h["step_time"], 2),
        }
        for h in logged
    ]
    outage_seen = events.get("grader_back_at", math.nan) - events.get("grader_killed_at", math.nan)
    ok = (
        trainer.state.global_step == steps
        and len(rows) == steps
        and all(math.isfinite(r["reward"]) and r["null_frac"] == 0 and not r["lost_items"] for r in rows)
    )
    return {
        "ok": ok,
        "outage_s": round(outage_seen, 1),
        "total_s": round(time.monotonic() - t0, 1),
        "steps": rows,
        "calls": calls,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outage", type=float, default=30.0, help="seconds the grader stays down")
    ap.add_argument("--steps", type=int, default=4)
    a = ap.parse_args()
    summary = run(a.outage, a.steps, Path(tempfile.mkdtemp(prefix="restart-check-")))
    for r in summary["steps"]:
        print(
            f"step {r['step']}: reward {r['reward']:.3f}, null {r['null_frac']:.0%}, "
            f"lost items {r['lost_items']:.0f}, {r['step_time_s']} s"
        )
    print(json.dumps({k: v for k, v in summary.items() if k != "calls"}))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
