"""`make compare-schemes`: the scheme comparison on the team's shared data with the local llama.cpp judge.

SmolLM2-135M plays both parts here — the policy sampling G completions per prompt and the judge — so the
run shows the pipeline end to end on a CPU; its numbers say nothing about which scheme is better (a
135M model is no judge of quality). Logprob mode only by default: SmolLM2's free-text verdicts run past
any short token budget (typed `judge_truncated`), which would leave the verdict rows empty. With a real
judge and policy, run `python -m trainer compare-schemes`
against them directly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.local_stack import SHARED_DATA, smollm2_stack  # noqa: E402
from trainer.cli import main as trainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA / "rar_medicine" / "rar_medicine_hf_schema_sample104.jsonl"))
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--output_dir", default="runs/compare-schemes")
    ap.add_argument("--modes", nargs="+", default=["logprob"], help="judge modes to compare (verdict, logprob)")
    a = ap.parse_args()
    with smollm2_stack(a.data) as (judge_url, model, url):
        results = trainer(
            ["compare-schemes", "--data", a.data, "--endpoint_base_url", judge_url, "--model_name_or_path", model,
             "--num_generations", str(a.generations), "--max_tokens", "96", "--concurrency", "1",
             "--max_prompts", str(a.prompts), "--grader_url", url, "--output_dir", a.output_dir, "--modes", *a.modes]
        )  # fmt: skip
    print(f"seconds grading: {results['grading_seconds']}; files in {a.output_dir}")


if __name__ == "__main__":
    main()
