"""Presets as files (one YAML per setup, a section per command) and the parser every command shares.

Like TRL's own scripts: each command parses its dataclasses with `HfArgumentParser`; `--preset NAME` (a file
here, or a path to a YAML file) supplies defaults from its section for the command, and every flag on the
command line overrides them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

PRESETS = Path(__file__).parent


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


def run_command(
    command: str,
    arguments: type,
    run: Callable[[Any], Any],
    argv: list[str],
    report: Callable[[Any], str] | None = None,
) -> Any:
    """A one-dataclass command: parse `argv` over the preset, run, print the report when there is one."""
    (args,) = parse(command, (arguments,), argv)
    result = run(args)
    if report is not None:
        print(report(result))
    return result
