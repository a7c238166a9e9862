"""Where a job's results go: results.json and report.md in its output directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_results(output_dir: str | Path, results: dict[str, Any], report: Callable[[dict[str, Any]], str]) -> Path:
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text(report(results))
    return out
