"""The scheme-comparison report: Markdown table and two plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def markdown(results: dict[str, Any]) -> str:
    cfg = results["config"]
    lines = [
        "# Reward schemes on the same rollouts",
        "",
        f"- rollouts: {results['groups']} prompts x {results['completions_per_group']} completions "
        f"({results['items']} items) from `{results['source']}`",
        f"- judge: `{results['judge_model']}` through the grader at {cfg['grader_url']}; "
        f"modes {', '.join(cfg['modes'])}",
        "- zero-variance groups get no GRPO gradient; `within share` is the share of the reward variance that lies"
        " inside groups (what the advantage learns from); std columns are in each scheme's own units",
        "",
        "| mode | scheme | zero-variance groups | mean within-group std | within share | reward mean ± std "
        "| min–max | scored items |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, per_scheme in results["spread"].items():
        for scheme, s in per_scheme.items():
            lines.append(
                f"| {mode} | {scheme} | {_f(s['zero_variance_frac'], 2)} ({s['groups']} groups) "
                f"| {_f(s['within_std_mean'])} | {_f(s['within_share'], 2)} "
                f"| {_f(s.get('mean'))} ± {_f(s.get('std'))} | {_f(s.get('min'), 2)}–{_f(s.get('max'), 2)} "
                f"| {s['items']} |"
            )
    for mode, matrix in results["rank_correlation"].items():
        names = list(matrix)
        lines += ["", f"Rank correlation (Spearman, items) between schemes, {mode}:", ""]
        lines += ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        lines += [f"| {a} | " + " | ".join(_f(matrix[a][b], 2) for b in names) + " |" for a in names]
    if results.get("hard_vs_soft"):
        lines += ["", "Hard versus soft verdicts, per scheme: rank correlation of the rewards (verdict vs logprob)", ""]
        lines += ["| scheme | Spearman |", "|---|---|"]
        lines += [f"| {s} | {_f(r, 2)} |" for s, r in results["hard_vs_soft"].items()]
    nulls = results["null_rewards"]
    reasons = results.get("null_reasons", {})

    def why(mode: str) -> str:
        types = ", ".join(f"{t} {k}" for t, k in sorted(reasons.get(mode, {}).items()))
        return f" ({types})" if types else ""

    lines += ["", "Null rewards (judge failures, typed): " + ", ".join(f"{m}: {n}{why(m)}" for m, n in nulls.items())]
    return "\n".join(lines) + "\n"


def plots(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for key, label, name in (
        ("zero_variance_frac", "share of groups with zero variance", "zero_variance.png"),
        ("within_share", "within-group share of reward variance", "within_share.png"),
    ):
        _bars(results["spread"], key, label, out / name, plt)
    return ["zero_variance.png", "within_share.png"]


def _bars(spread: dict[str, Any], key: str, label: str, path: Path, plt: Any) -> None:
    """One bar per scheme and judge mode, its value written on it."""
    modes = list(spread)
    schemes = list(next(iter(spread.values())))
    width = 0.8 / max(1, len(modes))
    fig, ax = plt.subplots(figsize=(1.6 * len(schemes) + 2, 4))
    for k, mode in enumerate(modes):
        vals = [spread[mode][s][key] or 0.0 for s in schemes]
        xs = [i + (k - (len(modes) - 1) / 2) * width for i in range(len(schemes))]
        ax.bar(xs, vals, width=width, label=mode)
        for x, v in zip(xs, vals, strict=True):
            ax.annotate(f"{v:.2f}", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(schemes)), schemes)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(label)
    ax.legend(title="judge mode")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
