"""The `make learn` report: learning curves as PNG, and the same numbers as Markdown and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CAVEAT = (
    "Policy and judge are both SmolLM2-135M-Instruct (CPU scale): these runs show whether the GRPO loop learns "
    "what the judge rewards, and how each scheme's signal behaves. They say nothing about medical quality: a "
    "135M judge's verdicts are close to chance on clinical criteria."
)


def _f(x: float | None, digits: int = 3, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _ci(ci: list[float | None] | tuple[float, float] | None, digits: int = 3) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "—"
    return f"[{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]"


def _mean(xs: list[float | None]) -> float | None:
    v = [x for x in xs if x is not None]
    return sum(v) / len(v) if v else None


def plot_curves(runs: dict[str, dict[str, Any]], out: Path, smooth: int = 3) -> Path:
    """Reward (each scheme in its own units), zero-variance share, KL and completion length per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("reward", "reward (own scheme's units)"),
        ("zero_variance_share", "share of groups with zero reward variance"),
        ("kl", "KL to the base policy"),
        ("completion_length", "mean completion length (tokens)"),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for ax, (key, title) in zip(axes.flat, panels, strict=True):
        for scheme, run in runs.items():
            s = run["series"]
            pts = [(x, y) for x, y in zip(s["step"], s[key], strict=True) if y is not None]
            if not pts:
                continue
            xs, ys = zip(*pts, strict=True)
            k = max(1, min(smooth, len(ys)))
            rolled = [sum(ys[max(0, i - k + 1) : i + 1]) / len(ys[max(0, i - k + 1) : i + 1]) for i in range(len(ys))]
            ax.plot(xs, rolled, label=scheme)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("GRPO step")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"GRPO learning curves (rolling mean over {smooth} steps)", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _eval_rows(evals: dict[str, Any]) -> list[str]:
    lines = [
        "| policy | scored | score [95% CI] | accuracy (score > 0.5) [95% CI] | Δ score vs base [95% CI] "
        "| McNemar p | expected score [95% CI] | Δ expected vs base [95% CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in evals.items():
        s = r["summary"]
        o, b = s["overall"], s["binary"]
        cmp = r.get("comparison")
        delta = cmp["bootstrap"] if cmp else None
        e = r.get("expected") or {}
        ev = e.get("vs_base")
        lines.append(
            f"| {name} | {s['n_scored']}/{s['n_examples']} | {_f(o['mean'])} {_ci(o['ci95'])} "
            f"| {_f(b['accuracy'], 2)} {_ci(b['accuracy_ci'], 2)} "
            f"| {_f(delta['diff'], 3, True) if delta else '—'} "
            f"{_ci([delta['ci_low'], delta['ci_high']]) if delta else ''} "
            f"| {_f(cmp['mcnemar']['p_value'], 2) if cmp else '—'} "
            f"| {_f(e.get('mean'))} {_ci(e.get('ci95'))} "
            f"| {_f(ev['diff'], 3, True) if ev else '—'} {_ci(ev['ci95']) if ev else ''} |"
        )
    return lines


def markdown(results: dict[str, Any]) -> str:
    cfg = results["config"]
    lines = [
        "# GRPO under each reward scheme (make learn)",
        "",
        f"> {CAVEAT}",
        "",
        f"- policy `{cfg['policy']}`, LoRA (preset `{cfg['preset']}`), {cfg['steps']} steps of one prompt x "
        f"G = {cfg['num_generations']} completions, seed {cfg['seed']}; {results['data']['train_prompts']} prompts "
        f"cycled ({cfg['steps'] // max(1, results['data']['train_prompts'])} passes), the same prompts in the same "
        "order for every scheme",
        f"- training prompts: {results['data']['train_prompts']} from `{results['data']['train_source']}` "
        f"({results['data']['heart']} heart-related by the lexical filter, {results['data']['topped_up']} others "
        "to top up)",
        f"- judge `{results['judge']}` behind the grader, logprob mode; evaluation on "
        f"{results['data']['eval_records']} held-out heart-related HealthBench records "
        f"(`{results['data']['eval_source']}`), greedy answers of up to {cfg['eval_max_new_tokens']} tokens",
        f"- machine: {results['machine']}; wall time {results['wall_minutes']:.1f} min "
        f"(training {results['train_minutes']:.1f}, evaluation {results['eval_minutes']:.1f})",
        "",
        "## Reward during training",
        "",
        f"Mean reward over the first and the last {results['window']} steps — the first and the last pass over the "
        "same prompts, so prompt difficulty cancels — in each scheme's own units; the CI of the change resamples "
        "whole steps (bootstrap, 2,000 draws). `P(no rise)` is the bootstrap share of changes ≤ 0.",
        "",
        "| scheme | first steps | last steps | change [95% CI] | P(no rise) | zero-variance share | KL (last) "
        "| length first → last | null rewards |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scheme, run in results["runs"].items():
        c, s = run["change"], run["series"]
        lengths = [x for x in s["completion_length"] if x is not None]
        kl = [x for x in s["kl"] if x is not None]
        lines.append(
            f"| {scheme} | {_f(c['first'])} | {_f(c['last'])} | {_f(c['change'], 3, True)} {_ci(c['ci95'])} "
            f"| {_f(c['p_no_rise'], 2)} | {_f(_mean(s['zero_variance_share']), 2)} | {_f(kl[-1] if kl else None, 4)} "
            f"| {_f(lengths[0] if lengths else None, 0)} → {_f(lengths[-1] if lengths else None, 0)} "
            f"| {run['null_rewards']} |"
        )
    lines += [
        "",
        "## Per-criterion signals",
        "",
        "What the mean hides (the same metrics the training logs carry as `rubric/criteria/*`): the share of "
        "judged criteria met per category and the pitfalls triggered per completion, first pass → last pass, and "
        "the criterion whose verdict most often flipped within a group (the one carrying the learning signal).",
        "",
        "| scheme | essential met | important met | optional met | pitfalls per completion | most flipped |",
        "|---|---|---|---|---|---|",
    ]
    for scheme, run in results["runs"].items():
        sig = run.get("criteria")
        if not sig:
            continue
        first, last = sig["first"], sig["last"]

        def arrow(cat: str, first: dict = first, last: dict = last) -> str:
            a, b = first["met_rate"].get(cat), last["met_rate"].get(cat)
            return f"{_f(a, 2)} → {_f(b, 2)}"

        top = sig["top_flipped"][0] if sig["top_flipped"] else None
        flipped = f"{top[0][:60]} ({top[1]}×)" if top else "—"
        lines.append(
            f"| {scheme} | {arrow('essential')} | {arrow('important')} | {arrow('optional')} "
            f"| {_f(first['pitfalls_per_item'], 2)} → {_f(last['pitfalls_per_item'], 2)} | {flipped} |"
        )
    lines += [
        "",
        "## Where a step's time goes",
        "",
        "| scheme | step (s) | generation (s) | judging (s) | optimisation (s) | judge calls per step |",
        "|---|---|---|---|---|---|",
    ]
    for scheme, run in results["runs"].items():
        s = run["series"]
        lines.append(
            f"| {scheme} | {_f(_mean(s['step_s']), 1)} | {_f(_mean(s['generation_s']), 1)} "
            f"| {_f(_mean(s['judging_s']), 1)} | {_f(_mean(s['optimisation_s']), 1)} "
            f"| {_f(run['judge_calls_per_step'], 0)} |"
        )
    lines += [
        "",
        "## Evaluation before and after",
        "",
        "HealthBench's score (met points over positive points, clipped to [0, 1]; a criterion is met when the "
        "judge's P(YES) > 0.5) with a bootstrap CI, the paper's binary metric, and each trained adapter against "
        "the base on the same records (paired bootstrap of the score, exact McNemar on the binary outcome). "
        "`expected score` is the same score's expectation under the judge's probabilities (the grader's "
        "`healthbench` reward): a 135M judge rarely says YES outright, so the hard score cannot tell policies "
        "apart where the expected one can. Records whose judging failed (typed nulls) are left out of both.",
        "",
        *_eval_rows(results["evaluation"]),
        "",
        f"![learning curves]({results['plots']['curves']})",
        "",
    ]
    return "\n".join(lines)
