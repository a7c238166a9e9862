"""`make meta-eval`: the judge meta-evaluation on the team's HealthBench Hard sample with the local judge.

The records are built from `trainer/evaluation/meta_labels/` (labels pointing into the sample by prompt_id and
criterion index); SmolLM2-135M judges them by the reference's pairwise protocol. A 135M model is no
judge of quality: the run shows the pipeline end to end. With a real judge, run
`python -m trainer evaluate --data healthbench-hard --meta_labels ... --grader_url ...` directly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.local_stack import SHARED_DATA, smollm2_stack  # noqa: E402
from trainer.evaluation.cli import EvaluateArguments, run_evaluate  # noqa: E402
from trainer.evaluation.report import meta_markdown  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA / "healthbench" / "hard_sample50.jsonl"))
    ap.add_argument("--labels", default=str(REPO / "trainer/evaluation/meta_labels/hard_sample50_ideal.jsonl"))
    ap.add_argument("--judge_mode", default="logprob")
    ap.add_argument("--output_dir", default="runs/meta-eval")
    a = ap.parse_args()
    with smollm2_stack(a.data) as (_, _, url):
        args = EvaluateArguments(
            data=a.data,
            n=1,  # the meta-eval is the point; one example keeps the score part short
            meta_labels=a.labels,
            judge_mode=a.judge_mode,
            grader_url=url,
            output_dir=a.output_dir,
        )
        results = run_evaluate(args)
    print("\n".join(meta_markdown(results["meta_eval"])))
    print(f"files in {a.output_dir}")


if __name__ == "__main__":
    main()
