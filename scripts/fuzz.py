"""`make fuzz`: schemathesis against the grader's own OpenAPI document, with a scripted judge behind it.

    python scripts/fuzz.py [--max-examples 300] [--seed 1]

Every operation gets generated valid and invalid requests; the checks include "no 5xx" and "the
response matches the documented schema". Prints schemathesis' summary and a one-line JSON verdict.

Two rules relate fields to each other in ways JSON Schema cannot state (the OpenAPI descriptions say
them): `extra_schemes` keys must be unique, and OpenRLHF's `query`, `prompts` and `labels` must be as long
as each other. A schema-valid request that breaks one gets a 422 with that rule's message; such failures
are counted as `cross_field_rules`, every other failure counts. Exit 0 only when no other failure, no 5xx
and no response off its schema was found.
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

# (operation, text of the 422 message): the cross-field rules above
CROSS_FIELD_RULES = [
    ("POST /v1/grade", "is already scored in this request"),
    ("POST /v1/openrlhf/reward", "must have the same length"),
]


def classify(out: str) -> dict[str, int]:
    """Failures by kind, from schemathesis' report: one block per failing test case under its operation."""
    counts = {"cross_field_rules": 0, "other_failures": 0}
    parts = re.split(r"\n_{3,} ((?:GET|POST|PUT|DELETE|PATCH) \S+) _{3,}\n", out)
    for op, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.split("=" * 20)[0]
        for case in re.split(r"\n\d+\. Test Case ID: ", "\n" + body)[1:]:
            codes = re.findall(r"^- (ST\d+|[A-Z][\w -]+)$", case, re.M)
            rule = any(op == o and text in case for o, text in CROSS_FIELD_RULES)
            if rule and all(c.startswith("ST202") for c in codes):
                counts["cross_field_rules"] += 1
            else:
                counts["other_failures"] += 1
    return counts


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
    kinds = classify(out)
    verdict = {
        "test_cases": int(tested.group(1)) if tested else None,
        "server_errors": len(re.findall(r"Server error", out)),
        "schema_mismatches": len(re.findall(r"Response violates schema", out)),
        **kinds,
        "fuzzer_errors": len(re.findall(r"^Runtime Error$", out, re.M)),
        "schemathesis_exit_code": proc.returncode,
    }
    verdict["ok"] = not (verdict["server_errors"] or verdict["schema_mismatches"] or kinds["other_failures"])
    print(json.dumps(verdict))
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
