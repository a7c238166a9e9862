"""verdict: the judge writes a short explanation and MET / NOT MET; P(met) is 0 or 1."""

from __future__ import annotations

from grader_service._redact import sanitize
from grader_service.judge import _prompts as prompts
from grader_service.judge._base import JudgeError, Judgement
from grader_service.judge._parse import parse_verdict
from grader_service.judge.modes._call import JudgeCall
from shared import Criterion, ErrorType


class Verdict:
    name = "verdict"

    async def judge(self, call: JudgeCall, criterion: Criterion) -> Judgement:
        messages = call.messages(criterion, prompts.VERDICT_TAIL)
        last = ""
        for _ in range(call.knobs.max_reparse + 1):  # an unparseable answer is asked once more, bounded
            ans, _, _ = await call.ask(call.spec(messages), truncation_ok=False)
            last = ans.final
            parsed = parse_verdict(ans.final)
            if parsed is not None:
                return Judgement(met=parsed.met, p_met=1.0 if parsed.met else 0.0, explanation=parsed.explanation)
            messages = [
                *messages,
                {"role": "assistant", "content": ans.final},
                {"role": "user", "content": prompts.REASK},
            ]
        raise JudgeError(
            ErrorType.judge_unparseable,
            f"no verdict after {call.knobs.max_reparse + 1} tries; last: {sanitize(last, 120)!r}",
        )
