"""`make learn`: the paper's scheme comparison at CPU scale, offline, in about an hour on 2 cores.

    python scripts/learn.py                       # hybrid, complexity, rar_explicit, rar_implicit
    python scripts/learn.py --steps 8 --schemes hybrid,rar_explicit --eval-n 4   # a quick look

Starts the local SmolLM2 judge behind llama.cpp's server and a grader on loopback, then runs
`python -m trainer learn` (trainer/learn/cli.py) against them with the same options (dashes or underscores;
`--preset NAME` is the GRPO runs' preset, `--grpo_preset` there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import SMOLLM2_GRADER_ENV, grader, judge


def main(argv: list[str] | None = None) -> None:
    from trainer.cli import main as trainer

    args = ["--" + a[2:].replace("-", "_") if a.startswith("--") else a for a in (argv or sys.argv[1:])]
    args = ["--grpo_preset" if a == "--preset" else a for a in args]  # --preset here: the runs' grpo preset
    with judge("llama") as (judge_url, model), grader(judge_url, model, **SMOLLM2_GRADER_ENV) as url:
        os.environ["RUBRIC_GRADER_URL"] = url
        trainer(["learn", *args])


if __name__ == "__main__":
    main()
