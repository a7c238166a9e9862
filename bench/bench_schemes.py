"""Time to turn one item's verdict probabilities into an exact reward and std, by rubric size.

The non-linear schemes (hybrid, complexity, healthbench with clip) go through the joint distribution of
the positive- and pitfall-point sums (dynamic programming over the points), so the cost grows with the
number of distinct sums, not with 2^n. Prints a table; JSON in runs/bench/schemes.json.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader_service.schemes import ScoringRubric, expected_reward, parse_params
from shared import Criterion

CASES = [
    (
        "integer points 1..10 (RaR, HealthBench)",
        lambda rng: rng.choice([1, 2, 3, 5, 7, 10]) * rng.choice([1, 1, 1, -1]),
    ),
    ("fractional points (0.1 steps)", lambda rng: round(rng.uniform(0.5, 10), 1) * rng.choice([1, 1, 1, -1])),
]


def rubric(n: int, points: object, rng: random.Random) -> ScoringRubric:
    crit = [Criterion(criterion=f"c{i}", points=float(points(rng)) or 1.0) for i in range(n)]  # type: ignore[operator]
    crit[0] = Criterion(criterion="c0", points=5.0)  # at least one positive criterion
    return ScoringRubric.from_criteria(crit)


def main() -> None:
    rng = random.Random(0)
    rows = []
    for label, points in CASES:
        for n in (12, 24, 48):
            for scheme in ("hybrid", "complexity"):
                params = parse_params(scheme, {})
                times, methods = [], set()
                for _ in range(30):
                    r = rubric(n, points, rng)
                    p = [rng.random() for _ in range(n)]
                    t = time.perf_counter()
                    est = expected_reward(p, r, scheme, params)
                    times.append((time.perf_counter() - t) * 1000)
                    methods.add(est.method)
                rows.append(
                    {
                        "points": label,
                        "criteria": n,
                        "scheme": scheme,
                        "median_ms": round(statistics.median(times), 3),
                        "max_ms": round(max(times), 3),
                        "method": ",".join(sorted(methods)),
                    }
                )
    print("| points | criteria | scheme | median ms/item | max ms/item | method |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['points']} | {r['criteria']} | {r['scheme']} | {r['median_ms']} | {r['max_ms']} | {r['method']} |")
    out = Path("runs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "schemes.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
