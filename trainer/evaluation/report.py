"""The Markdown report and the PNG plots of an evaluation run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_themes(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [("HealthBench theme", summary["per_theme"]), ("cardiac theme", summary["per_cardiac_theme"])]
    labels, means, lo, hi = [], [], [], []
    for kind, stats in groups:
        for name, s in stats.items():
            labels.append(f"{name}\n({kind}, n={s['n']})")
            means.append(s["mean"])
            lo.append(max(0.0, s["mean"] - s["ci95"][0]))
            hi.append(max(0.0, s["ci95"][1] - s["mean"]))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(labels) + 2), 4.5))
    if labels:
        ax.bar(range(len(labels)), means, yerr=[lo, hi], capsize=4, color="#c0392b")
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    o = summary["overall"]
    ax.axhline(o["mean"], color="k", ls="--", lw=1, label=f"overall {o['mean']:.3f}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("score (clipped mean, 95% CI)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_rewards(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = summary["score_histogram"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(scores, bins=20, range=(min([-0.5, *scores]), 1.0), color="#2c3e50")
    ax.axvline(summary["binary"]["threshold"], color="#c0392b", ls="--", label="'good' threshold")
    ax.set_xlabel("per-example score (unclipped)")
    ax.set_ylabel("examples")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(s: dict[str, Any]) -> str:
    return f"{s['mean']:.3f} ± {s['std']:.3f} (95% CI {s['ci95'][0]:.3f}–{s['ci95'][1]:.3f}, n={s['n']})"


def markdown(results: dict[str, Any]) -> str:
    s, cfg = results["summary"], results["config"]
    b = s["binary"]
    lines = [
        f"# HealthBench evaluation: {results['model']}",
        "",
        f"- data: `{cfg['data']}` (heart-related only: {cfg['heart_only']}, sample n={cfg['n']}, seed {cfg['seed']})",
        f"- judge: {results['judge']} via the grader at {cfg['grader_url']} (scheme `healthbench`, "
        "HealthBench-style judging of the whole conversation)",
        f"- examples: {s['n_examples']} graded, {s['n_scored']} scored, failures: {s['failures'] or 'none'}",
        "",
        "## HealthBench score",
        "",
        f"**{_fmt(s['overall'])}** — per-example scores are unclipped; only the mean is clipped to [0, 1]; "
        f"bootstrap over examples ({cfg['bootstrap']} resamples, seed {cfg['seed']}).",
        "",
        "| group | score |",
        "|---|---|",
    ]
    for kind, stats in (("theme", s["per_theme"]), ("cardiac theme", s["per_cardiac_theme"]), ("axis", s["per_axis"])):
        lines += [f"| {kind}: {k} | {_fmt(v)} |" for k, v in stats.items()]
    lines += [
        "",
        f'## The seed paper\'s binary metric ("good" when score > {b["threshold"]})',
        "",
        f"accuracy {b['accuracy']:.3f} (Wilson 95% {b['accuracy_ci'][0]:.3f}–{b['accuracy_ci'][1]:.3f}), "
        f"precision {b['precision']:.3f}, recall {b['recall']:.3f}, F1 {b['f1']:.3f} "
        f"(tp {b['tp']}, fp {b['fp']}, fn {b['fn']}, tn {b['tn']}).",
        "",
        f"Ground truth: {b['ground_truth']}.",
        "",
    ]
    if cmp := results.get("comparison"):
        lines += [
            f"## Paired comparison with `{cmp['baseline']}` ({cmp['n_paired']} shared prompts)",
            "",
            f"- score difference (this − baseline): {cmp['bootstrap']['diff']:+.3f} "
            f"(95% CI {cmp['bootstrap']['ci_low']:+.3f} to {cmp['bootstrap']['ci_high']:+.3f}, "
            f"paired bootstrap p = {cmp['bootstrap']['p_value']:.3f})",
            f"- binary outcome: baseline-only good {cmp['mcnemar']['b']}, this-only good {cmp['mcnemar']['c']}, "
            f"McNemar exact p = {cmp['mcnemar']['p_value']:.3f}",
            "",
        ]
    if meta := results.get("meta_eval"):
        lines += [
            "## Judge meta-evaluation (physician labels)",
            "",
            f"balanced F1 {meta['balanced_f1']:.3f}, agreement {meta['agreement']:.3f} on {meta['n']} "
            f"criterion judgements (failed: {meta['n_failed']}, ties skipped: {meta['n_ties']})",
            "",
        ]
    lines += ["![per-theme scores](per_theme.png)", "", "![score distribution](score_distribution.png)", ""]
    return "\n".join(lines)
