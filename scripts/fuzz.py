"""`make fuzz`: schemathesis against the grader's own OpenAPI document, with a scripted judge behind it.

    python scripts/fuzz.py [--max-examples 300] [--seed 1]

Every operation gets generated valid and invalid requests; the checks include "no 5xx" and "the
response matches the documented schema". Prints schemathesis' summary and a one-line JSON verdict;
exit 0 only when there was no failure.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.local_stack import judge_and_grader


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-examples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--log", type=Path, default=Path("runs/fuzz.log"), help="schemathesis' whole output")
    a = ap.parse_args()
    exe = Path(sys.executable).parent / "schemathesis"
    if not exe.exists():
        print("schemathesis is not installed: pip install 'schemathesis>=4'")
        return 2
    with judge_and_grader(0.0, 64, GRADER_JUDGE_MODE="logprob", GRADER_JUDGE_PROBE="false") as url:
        proc = subprocess.run(
            [
                str(exe),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(a.max_examples),
                "--seed",
                str(a.seed),
                "--workers",
                str(a.workers),
                "--suppress-health-check",
                "all",
            ],
            text=True,
            capture_output=True,
        )
    out = proc.stdout + proc.stderr
    a.log.parent.mkdir(parents=True, exist_ok=True)
    a.log.write_text(out)
    summary = out[out.rfind("=" * 20 + " SUMMARY") :] if "SUMMARY" in out else out[-3000:]
    print(summary)
    print(f"(whole output: {a.log})")
    tested = re.search(r"(\d+)\s+generated", out)
    verdict = {
        "ok": proc.returncode == 0,
        "exit_code": proc.returncode,
        "test_cases": int(tested.group(1)) if tested else None,
        "server_errors": len(re.findall(r"Server error", out)),
        "schema_mismatches": len(re.findall(r"Response violates schema", out)),
    }
    print(json.dumps(verdict))
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
