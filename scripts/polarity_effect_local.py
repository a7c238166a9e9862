"""`make polarity-effect`: what `pitfall_polarity=auto` changes against `literal`, on the team's samples,
with the local SmolLM2-135M judge.

A 135M model is no judge of medicine: the run shows which rewards move and by how much when the sign of
the avoid-phrased pitfalls is corrected, for this judge's verdicts. With a real judge, run
`python -m trainer polarity-effect --grader_url ...` against a grader in front of it.
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
    ap.add_argument("--shared_data", default=str(SHARED_DATA))
    ap.add_argument("--judge_mode", default="logprob")
    ap.add_argument("--max_records", type=int, default=None)
    ap.add_argument("--output_dir", default="runs/polarity-effect")
    a = ap.parse_args()
    extra = ["--max_records", str(a.max_records)] if a.max_records is not None else []
    with smollm2_stack(a.shared_data) as (_, model, url):
        label = f"local {model} (llama.cpp server, SmolLM2-135M-Instruct: plumbing, not medical judgement)"
        trainer(
            ["polarity-effect", "--shared_data", a.shared_data, "--grader_url", url, "--judge_mode", a.judge_mode,
             "--judge_label", label, "--output_dir", a.output_dir, *extra]
        )  # fmt: skip
    print(f"files in {a.output_dir}")


if __name__ == "__main__":
    main()
