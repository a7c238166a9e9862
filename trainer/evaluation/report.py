"""The Markdown report and the PNG plots of an evaluation run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _series(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for kind, stats in (("HealthBench theme", summary["per_theme"]), ("cardiac theme", summary["per_cardiac_theme"])):
        for name, st in stats.items():
            out[f"{name}\n({kind})"] = st
    return out


def plot_themes(summary: dict[str, Any], path: Path, baseline: dict[str, Any] | None = None) -> None:
    _save(themes_figure(summary, baseline), path)


def plot_rewards(summary: dict[str, Any], path: Path, baseline: dict[str, Any] | None = None) -> None:
    _save(rewards_figure(summary, baseline), path)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def themes_figure(summary: dict[str, Any], baseline: dict[str, Any] | None = None) -> Any:
    """Per-theme means with 95% CIs, drawn as points with their value written on (a zero is a visible 0,
    not an empty frame); a baseline run's means beside them when comparing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    this, base = _series(summary), _series(baseline) if baseline else {}
    labels = list(this) + [k for k in base if k not in this]
    runs = [("this run", this, "#c0392b", -0.12 if base else 0.0)]
    if base:
        runs.append(("baseline", base, "#7f8c8d", 0.12))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(labels) + 2), 4.8))
    for name, stats, color, shift in runs:
        xs = [i + shift for i, label in enumerate(labels) if label in stats]
        pts = [stats[label] for label in labels if label in stats]
        if not pts:
            continue
        means = [p["mean"] for p in pts]
        err = [[max(0.0, p["mean"] - p["ci95"][0]) for p in pts], [max(0.0, p["ci95"][1] - p["mean"]) for p in pts]]
        ax.errorbar(xs, means, yerr=err, fmt="o", capsize=4, color=color, label=name)
        for x, m, p in zip(xs, means, pts, strict=True):
            ax.annotate(f"{m:.2f} (n={p['n']})", (x, m), textcoords="offset points", xytext=(6, 4), fontsize=7)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.axhline(
        summary["overall"]["mean"], color="#c0392b", ls="--", lw=1, label=f"overall {summary['overall']['mean']:.3f}"
    )
    if baseline:
        b = baseline["overall"]["mean"]
        ax.axhline(b, color="#7f8c8d", ls=":", lw=1, label=f"baseline overall {b:.3f}")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(-0.6, max(len(labels) - 0.4, 0.6))
    ax.set_ylabel("score (clipped mean, 95% CI)")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def rewards_figure(summary: dict[str, Any], baseline: dict[str, Any] | None = None) -> Any:
    """The per-example score distribution (counts on whole-number ticks), a baseline run's as an outline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    scores = summary["score_histogram"]
    other = baseline["score_histogram"] if baseline else []
    lo = min([-0.5, *scores, *other])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(scores, bins=20, range=(lo, 1.0), color="#2c3e50", label=f"this run (n={len(scores)})")
    if baseline:
        ax.hist(
            other, bins=20, range=(lo, 1.0), histtype="step", lw=2, color="#e67e22", label=f"baseline (n={len(other)})"
        )
    ax.axvline(summary["binary"]["threshold"], color="#c0392b", ls="--", label="'good' threshold")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("per-example score (unclipped)")
    ax.set_ylabel("examples")
    ax.legend(fontsize=8)
    return fig


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
        f"- {results.get('comparability', 'judge prompt: not recorded')}",
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
        lines += meta_markdown(meta)
    lines += ["![per-theme scores](per_theme.png)", "", "![score distribution](score_distribution.png)", ""]
    return "\n".join(lines)


def _v(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "—"
    return f"{m['value']:.3f} (n={m['n']:g})"


def meta_markdown(meta: dict[str, Any]) -> list[str]:
    """Judge and physicians side by side, every figure with the pairs behind it and the protocol named."""
    model, phys = meta["model"]["overall"], meta["physicians"]["mean_over_physicians"]
    peers = phys.get("f1_balanced", {}).get("physicians", 0)
    labellers = meta.get("labellers") or []
    baseline = (
        f"Labellers: the mean over {peers} of each one's agreement with their peers."
        if peers
        else "No peer baseline: every record carries a single label."
    )
    lines = [
        "## Judge meta-evaluation (human labels)",
        "",
        f"Protocol: {meta['protocol']}. Judge {meta['judge']}: {meta['n_judged']} of {meta['n_records']} "
        f"criterion judgements made ({meta['n_failed']} failed). Labels by {len(labellers)} labeller(s)"
        f"{': ' + ', '.join(labellers[:8]) if labellers else ''}. {baseline}",
        "",
        "| metric | judge vs labellers | labellers vs labellers |",
        "|---|---|---|",
    ]
    for name in ("f1_balanced", "f1_pos", "f1_neg", "precision_pos", "recall_pos", "precision_neg", "recall_neg"):
        lines.append(f"| {name} | {_v(model.get(name))} | {_v(phys.get(name))} |")
    if meta["model"]["clusters"]:
        lines += ["", "| cluster | judge balanced F1 |", "|---|---|"]
        for cluster, m in sorted(meta["model"]["clusters"].items()):
            lines.append(f"| {cluster} | {_v(m.get('f1_balanced'))} |")
    return [*lines, ""]
