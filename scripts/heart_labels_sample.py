"""Redraw the questions of `trainer/heart/labels/heart_labels.jsonl` from the public source files.

The labels are human work and live in the JSONL; this script shows (and checks) where the questions
came from: pass the three public files and it prints the ids it draws, which must match the JSONL's.

    python scripts/heart_labels_sample.py --medqa test.jsonl --medmcqa medmcqa_test.jsonl --pubmedqa ori_pqal.json

MedQA and MedMCQA: the test files as shipped in github.com/xk-huang/medagents-benchmark (data/medqa,
data/medmcqa); PubMedQA: data/ori_pqal.json in github.com/pubmedqa/pubmedqa.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

LABELLED = Path(__file__).resolve().parent.parent / "trainer" / "heart" / "labels" / "heart_labels.jsonl"


def draw(medqa: list[dict], medmcqa: list[dict], pubmedqa: dict[str, dict]) -> list[str]:
    rng = random.Random(2026)
    ids = [f"medqa-{r['realidx']}" for r in rng.sample(medqa, 300)]
    ids += [f"medmcqa-{r['realidx']}" for r in rng.sample(medmcqa, 100)]
    ids += [f"pubmedqa-{k}" for k in rng.sample(sorted(pubmedqa), 100)]
    used = set(ids)
    rng = random.Random(20261127)
    rest = [r for r in medqa if f"medqa-{r['realidx']}" not in used]
    ids += [f"medqa-{r['realidx']}" for r in rng.sample(rest, 200)]
    keys = [k for k in sorted(pubmedqa) if f"pubmedqa-{k}" not in used]
    ids += [f"pubmedqa-{k}" for k in rng.sample(keys, 100)]
    for seed, n in ((20261128, 200), (20261129, 300)):  # holdout2, holdout3: fresh MedQA each time
        taken = set(ids)
        rest = [r for r in medqa if f"medqa-{r['realidx']}" not in taken]
        ids += [f"medqa-{r['realidx']}" for r in random.Random(seed).sample(rest, n)]
    taken = set(ids)
    ids += [f"medqa-{r['realidx']}" for r in medqa if f"medqa-{r['realidx']}" not in taken]  # holdout4: the rest
    return ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--medqa", required=True)
    ap.add_argument("--medmcqa", required=True)
    ap.add_argument("--pubmedqa", required=True)
    a = ap.parse_args()
    read = lambda p: [json.loads(line) for line in Path(p).read_text().splitlines() if line.strip()]  # noqa: E731
    ids = draw(read(a.medqa), read(a.medmcqa), json.loads(Path(a.pubmedqa).read_text()))
    shipped = [json.loads(line)["id"] for line in LABELLED.read_text().splitlines()]
    print(json.dumps({"drawn": len(ids), "match_labelled_set": ids == shipped}))


if __name__ == "__main__":
    main()
