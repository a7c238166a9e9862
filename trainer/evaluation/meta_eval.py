"""The judge meta-evaluation by HealthBench's own protocol (openai/simple-evals `healthbench_meta_eval.py`).

A rater's label is compared with **each other physician's label** for the same (conversation, completion,
criterion) separately: precision for a class counts the pairs where the rater said that class, recall the
pairs where the other physician did; F1 per class, and balanced F1 as the mean of the two, each with the
number of pairs behind it, overall and per rubric cluster (a cluster with no pairs for a class has no
entry). The judge is one rater; each physician, against their peers, gives the human baseline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

Metric = dict[str, float | int | None]  # {"value": ..., "n": ...}


def pairwise_metrics(
    self_preds: Sequence[bool], others: Sequence[Sequence[bool]], clusters: Sequence[str]
) -> dict[str, Any]:
    """`{"overall": {metric: {value, n}}, "clusters": {cluster: {...}}}` with metrics precision/recall/f1
    for `pos`/`neg` and `balanced` (their mean), by the reference's pairwise counting."""
    hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for pred, other_labels, cluster in zip(self_preds, others, clusters, strict=True):
        for other in other_labels:
            agree = pred == other
            for scope in ("", cluster):
                hits[(scope, f"precision_{'pos' if pred else 'neg'}")].append(agree)
                hits[(scope, f"recall_{'pos' if other else 'neg'}")].append(agree)
    scopes: dict[str, dict[str, Metric]] = defaultdict(dict)
    for (scope, name), xs in hits.items():
        scopes[scope][name] = {"value": sum(xs) / len(xs), "n": len(xs)}
    for metrics in scopes.values():
        for cls in ("pos", "neg"):
            p, r = metrics.get(f"precision_{cls}"), metrics.get(f"recall_{cls}")
            if p is not None and r is not None:
                metrics[f"f1_{cls}"] = _f1(p, r)
        for kind in ("precision", "recall", "f1"):
            pos, neg = metrics.get(f"{kind}_pos"), metrics.get(f"{kind}_neg")
            if pos is not None and neg is not None:
                both = None if pos["value"] is None or neg["value"] is None else (pos["value"] + neg["value"]) / 2
                metrics[f"{kind}_balanced"] = {"value": both, "n": int(pos["n"] or 0) + int(neg["n"] or 0)}
    overall = scopes.pop("", {})
    return {"overall": overall, "clusters": dict(scopes)}


def _f1(p: Metric, r: Metric) -> Metric:
    pv, rv, pn, rn = p["value"], r["value"], int(p["n"] or 0), int(r["n"] or 0)
    if pv is None or rv is None:
        return {"value": None, "n": pn + rn}
    tp = pv * pn
    value = 0.0 if pv == 0 and rv == 0 else 2 * pv * rv / (pv + rv)
    return {"value": value, "n": pn + rn - tp}  # TP+FP + TP+FN - TP, as the reference counts it


def physician_baselines(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Each physician against the other physicians on the same records (the reference's human baseline):
    per physician, and the mean over physicians of each overall metric."""
    per: dict[str, tuple[list[bool], list[list[bool]], list[str]]] = defaultdict(lambda: ([], [], []))
    for rec in records:
        labels = list(rec["binary_labels"])
        ids = rec.get("anonymized_physician_ids") or [f"physician-{i}" for i in range(len(labels))]
        for i, (pid, label) in enumerate(zip(ids, labels, strict=True)):
            others = labels[:i] + labels[i + 1 :]
            if not others:
                continue
            per[pid][0].append(bool(label))
            per[pid][1].append([bool(x) for x in others])
            per[pid][2].append(str(rec.get("category", "")))
    by_physician = {pid: pairwise_metrics(*lists)["overall"] for pid, lists in per.items()}
    names = sorted({k for m in by_physician.values() for k in m})
    mean: dict[str, Metric] = {}
    for name in names:
        values = [m[name]["value"] for m in by_physician.values() if name in m and m[name]["value"] is not None]
        mean[name] = {
            "value": sum(values) / len(values) if values else None,  # type: ignore[arg-type]
            "n": sum(int(m[name]["n"] or 0) for m in by_physician.values() if name in m),
            "physicians": len(values),
        }
    return {"mean_over_physicians": mean, "by_physician": by_physician}
