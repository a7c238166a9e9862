"""`python -m trainer <command>`: a thin CLI over config dataclasses, presets as files.

Commands: prepare, sft, grpo, evaluate, heart-eval, heart-train, compare-schemes, polarity-eval,
polarity-effect.

Like TRL's own scripts: each command parses its dataclasses with `HfArgumentParser`; `--preset NAME`
(a file in trainer/presets/, or a path to a YAML file) supplies defaults from its section for the
command, and every flag on the command line overrides them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

PRESETS = Path(__file__).parent / "presets"
COMMANDS = (
    "prepare",
    "sft",
    "grpo",
    "evaluate",
    "heart-eval",
    "heart-train",
    "compare-schemes",
    "polarity-eval",
    "polarity-effect",
)


def preset_defaults(preset: str, command: str) -> dict[str, Any]:
    path = Path(preset) if preset.endswith((".yaml", ".yml")) else PRESETS / f"{preset}.yaml"
    if not path.exists():
        names = ", ".join(sorted(p.stem for p in PRESETS.glob("*.yaml")))
        raise SystemExit(f"unknown preset {preset!r}: one of {names}, or a path to a YAML file")
    return (yaml.safe_load(path.read_text()) or {}).get(command, {})


def _split_preset(argv: list[str]) -> tuple[str | None, list[str]]:
    rest, preset = [], None
    it = iter(argv)
    for a in it:
        if a == "--preset":
            preset = next(it, None)
        elif a.startswith("--preset="):
            preset = a.split("=", 1)[1]
        else:
            rest.append(a)
    return preset, rest


def parse(command: str, types: tuple[type, ...], argv: list[str]) -> tuple[Any, ...]:
    from transformers import HfArgumentParser

    preset, rest = _split_preset(argv)
    names = ", ".join(sorted(p.stem for p in PRESETS.glob("*.yaml")))
    parser = HfArgumentParser(
        types,
        prog=f"python -m trainer {command}",
        usage="%(prog)s [--preset NAME] [--OPTION VALUE ...]",
        description=f"--preset NAME starts from a preset ({names}; or a YAML path); any option below overrides it.",
    )
    parser.add_argument("--preset", default=None, help="preset name (trainer/presets) or YAML path")
    if preset:
        defaults = preset_defaults(preset, command)
        known = {a.dest for a in parser._actions}
        unknown = set(defaults) - known
        if unknown:
            raise SystemExit(f"preset {preset!r} sets unknown {command} options: {sorted(unknown)}")
        parser.set_defaults(**defaults)
    return parser.parse_args_into_dataclasses(rest, look_for_args_file=False)[: len(types)]


def main(argv: list[str] | None = None) -> Any:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m trainer {{{','.join(COMMANDS)}}} [--preset NAME] [options]  (-h for options)")
        raise SystemExit(2)
    command, rest = argv[0], argv[1:]
    if command == "prepare":
        from trainer.prepare import PrepareArguments, run_prepare

        (args,) = parse(command, (PrepareArguments,), rest)
        summary = run_prepare(args)
        print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
        return summary
    if command == "sft":
        from trl import ModelConfig, SFTConfig

        from trainer.sft import SFTScriptArguments, run_sft

        return run_sft(*parse(command, (SFTScriptArguments, SFTConfig, ModelConfig), rest))
    if command == "grpo":
        from trl import GRPOConfig, ModelConfig

        from trainer.grpo import GRPOScriptArguments, run_grpo

        return run_grpo(*parse(command, (GRPOScriptArguments, GRPOConfig, ModelConfig), rest))
    if command == "compare-schemes":
        from trainer.compare._report import markdown
        from trainer.compare_schemes import CompareSchemesArguments, run_compare_schemes

        (compare_args,) = parse(command, (CompareSchemesArguments,), rest)
        results = run_compare_schemes(compare_args)
        print(markdown(results))
        return results
    if command == "heart-eval":
        from trainer.heart_eval import HeartEvalArguments, report_md, run_heart_eval

        (heart_args,) = parse(command, (HeartEvalArguments,), rest)
        results = run_heart_eval(heart_args)
        print(report_md(results))
        return results
    if command == "polarity-eval":
        from trainer.polarity.cli import PolarityEvalArguments, report_md, run_polarity_eval

        (polarity_args,) = parse(command, (PolarityEvalArguments,), rest)
        polarity = run_polarity_eval(polarity_args)
        print(report_md(polarity))
        return polarity
    if command == "polarity-effect":
        from trainer.polarity.effect import PolarityEffectArguments, run_polarity_effect
        from trainer.polarity.effect import report_md as effect_md

        (effect_args,) = parse(command, (PolarityEffectArguments,), rest)
        effect = run_polarity_effect(effect_args)
        print(effect_md(effect))
        return effect
    if command == "heart-train":
        from trainer.heart_train import HeartTrainArguments, markdown, run_heart_train

        (train_args,) = parse(command, (HeartTrainArguments,), rest)
        results = run_heart_train(train_args)
        print(markdown(results))
        return results
    from trainer.evaluate import EvaluateArguments, run_evaluate

    (args,) = parse(command, (EvaluateArguments,), rest)
    return run_evaluate(args)


def entry() -> int:
    """Console-script entry point (`rubric-trainer`): an exit status, not `main`'s return value."""
    main()
    return 0
