"""`python -m trainer <command>`: a thin dispatcher; each command is a job package's `main(argv)`.

Every command parses its config dataclasses with `HfArgumentParser` and takes `--preset NAME` (trainer/presets);
the flags on the command line override the preset.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from trainer.presets import PRESETS, parse, preset_defaults

# command -> the module whose main(argv) runs it
COMMANDS = {
    "prepare": "trainer.prepare.cli",
    "sft": "trainer.sft.cli",
    "grpo": "trainer.grpo.cli",
    "evaluate": "trainer.evaluation.cli",
    "compare-schemes": "trainer.compare.cli",
    "learn": "trainer.learn.cli",
    "heart-eval": "trainer.heart.evaluate",
    "heart-train": "trainer.heart.train",
    "polarity-eval": "trainer.polarity.cli",
    "polarity-effect": "trainer.polarity.effect",
}

__all__ = ["COMMANDS", "PRESETS", "entry", "main", "parse", "preset_defaults"]


def main(argv: list[str] | None = None) -> Any:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m trainer {{{','.join(COMMANDS)}}} [--preset NAME] [options]  (-h for options)")
        raise SystemExit(2)
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


def entry() -> int:
    """Console-script entry point (`rubric-trainer`): an exit status, not `main`'s return value."""
    main()
    return 0
