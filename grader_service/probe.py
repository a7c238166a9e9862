"""The judge capability probe: one tiny grading call that says plainly what works and what to change.

It runs at start-up and behind `/readyz`: the configured model and mode grade a criterion that is
plainly met, through the same code path as real requests (so refusals are adapted to, and thinking
models detected, before the first batch arrives). Results are reused for a while; a failing probe is
retried sooner.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from grader_service.judge import ItemContext, Judge, JudgeRequestOptions
from shared import Criterion, ErrorType, JudgeMode, Message

Status = Literal["ready", "degraded", "busy", "failing", "unreachable"]
_HEALTHY: tuple[Status, ...] = ("ready", "degraded", "busy")

CONVERSATION = [Message(role="user", content="What is 2 + 2?")]
RESPONSE = "2 + 2 = 4."
CRITERION = Criterion(criterion="States that the answer is 4.", points=1)


@dataclass
class ProbeReport:
    status: Status
    model: str
    mode: str
    family: str | None = None
    works: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)  # {"problem": ..., "fix": ...}
    adapted: list[str] = field(default_factory=list)
    capabilities: dict[str, Any] | None = None
    seconds: float = 0.0
    checked_at: float = 0.0

    @property
    def healthy(self) -> bool:
        return self.status in _HEALTHY

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["checked_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.checked_at))
        return out


def _backend(judge: Judge) -> Any:
    return getattr(judge, "inner", judge)  # bypass the cache: a probe must reach the judge


async def run_probe(judge: Judge, opts: JudgeRequestOptions, timeout_s: float) -> ProbeReport:
    start = time.perf_counter()
    backend = _backend(judge)
    report = ProbeReport(status="ready", model=opts.model, mode=opts.mode.value)
    ok, detail = await backend.ready()
    if not ok:
        report.status = "unreachable"
        report.problems.append(
            {"problem": f"the judge endpoint did not answer: {detail}", "fix": "check GRADER_JUDGE_BASE_URL"}
        )
        return _done(report, start)
    served = getattr(backend, "_served", None) or {}
    if served and opts.model not in served:
        names = ", ".join(sorted(served))[:200]
        report.problems.append(
            {
                "problem": f"model {opts.model!r} is not listed by the endpoint (it serves {names})",
                "fix": "set GRADER_JUDGE_MODEL to a served model",
            }
        )
    if hasattr(backend, "family_for"):
        fam, _caps = await backend.family_for(opts)
        report.family = fam.name
    try:
        ctx = ItemContext(CONVERSATION, RESPONSE)
        j = await asyncio.wait_for(backend.judge_criterion(ctx, CRITERION, opts), timeout_s)
    except TimeoutError:
        j = None
    if j is None or (j.error is not None and j.error.type is ErrorType.judge_timeout):
        # /v1/models answered but the call did not finish in time: a queue, not an outage
        report.status = "busy"
        report.works.append("the endpoint answers /v1/models")
        report.problems.append(
            {"problem": f"the probe call took longer than {timeout_s:g} s", "fix": "none needed if the judge is busy"}
        )
        return _done(report, start, backend, opts)
    if j.error is not None:
        report.status = "unreachable" if j.error.type is ErrorType.judge_connection_error else "failing"
        report.problems.append({"problem": f"{j.error.type.value}: {j.error.message}", "fix": _fix(j.error.message)})
        return _done(report, start, backend, opts)
    mass = f", P(YES)+P(NO) = {j.answer_mass:.2f}" if j.answer_mass is not None else ""
    report.works.append(f"{opts.mode.value} mode returns a verdict: p_met = {j.p_met:.2f}{mass}")
    if j.p_met is not None and j.p_met < 0.5:
        report.problems.append(
            {
                "problem": "the judge said NO to a plainly met criterion: it may be too small to grade reliably",
                "fix": "use a stronger judge model",
            }
        )
    if opts.mode is JudgeMode.logprob and j.answer_mass is None:
        report.status = "degraded"
        report.problems.append(
            {
                "problem": "the endpoint returns no logprobs for this model: p_met is 0 or 1 (hard verdicts)",
                "fix": "GRADER_JUDGE_MODE=sample for graded verdicts, or a server/model with logprobs",
            }
        )
    return _done(report, start, backend, opts)


def _fix(message: str) -> str:
    for marker in ("GRADER_", "set ", "raise "):
        if marker in message:
            return "see the message"
    return "see the README's judge table for this server family"


def _done(
    report: ProbeReport, start: float, backend: Any = None, opts: JudgeRequestOptions | None = None
) -> ProbeReport:
    if backend is not None and opts is not None and hasattr(backend, "capabilities"):
        caps = backend.capabilities()
        mine = next((c for k, c in caps.items() if k.endswith(f"/ {opts.model}")), None)
        if mine is not None:
            report.capabilities = mine
            report.adapted = list(mine.get("learned", []))
            if not mine.get("n", True) and opts.mode is JudgeMode.sample:
                report.works.append("n > 1 is refused: samples are drawn one call at a time")
    report.seconds = round(time.perf_counter() - start, 3)
    report.checked_at = time.time()
    return report


class Prober:
    """Runs the probe at most once at a time and reuses a result while it is fresh."""

    def __init__(self, judge: Judge, opts: JudgeRequestOptions, *, ttl_s: float, timeout_s: float) -> None:
        self.judge = judge
        self.opts = opts
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self.last: ProbeReport | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        if self.last is None:
            return False
        ttl = self.ttl_s if self.last.status in ("ready", "degraded") else min(self.ttl_s, 15.0)
        return time.time() - self.last.checked_at < ttl

    async def report(self) -> ProbeReport:
        async with self._lock:
            if not self._fresh():
                try:
                    self.last = await run_probe(self.judge, self.opts, self.timeout_s)
                except Exception as e:  # a probe that breaks says so; it never makes /readyz a 500
                    failed = ProbeReport(status="failing", model=self.opts.model, mode=self.opts.mode.value)
                    failed.problems.append(
                        {"problem": f"the probe itself failed: {type(e).__name__}", "fix": "see the log"}
                    )
                    failed.checked_at = time.time()
                    self.last = failed
            assert self.last is not None
            return self.last
