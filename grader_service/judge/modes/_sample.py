"""sample: k verdicts at the request's temperature (one call with n=k where the server allows);
P(met) is the share of MET."""

from __future__ import annotations

from grader_service.judge import _prompts as prompts
from grader_service.judge._base import JudgeError, Judgement
from grader_service.judge._parse import parse_verdict
from grader_service.judge.modes._call import JudgeCall, Learned
from shared import Criterion, ErrorType


class Sample:
    name = "sample"

    async def judge(self, call: JudgeCall, criterion: Criterion) -> Judgement:
        want = call.opts.samples
        messages = call.messages(criterion, prompts.VERDICT_TAIL)
        verdicts: list[bool] = []
        explanation: str | None = None
        truncated = 0
        budget = want  # bounded: servers that ignore or refuse `n` get at most `samples` calls
        while len(verdicts) < want and budget > 0:
            budget -= 1
            reply, budgeted = await call.send(call.spec(messages, n=want - len(verdicts)))
            for choice in reply.choices:
                try:
                    ans = call.final(choice, reply, budgeted, truncation_ok=False)
                except Learned:
                    budget += 1  # the call is made again with a reasoning budget; it does not count
                    break
                except JudgeError:
                    truncated += 1
                    continue
                parsed = parse_verdict(ans.final)
                if parsed is not None and len(verdicts) < want:
                    verdicts.append(parsed.met)
                    explanation = explanation or parsed.explanation
        if not verdicts:
            if truncated:
                fix = "GRADER_JUDGE_REASONING_BUDGET" if call.caps.reasoning else "GRADER_JUDGE_MAX_TOKENS"
                raise JudgeError(ErrorType.judge_truncated, f"every sample was cut off before its verdict: raise {fix}")
            raise JudgeError(ErrorType.judge_unparseable, f"none of the {want} samples held a verdict")
        p = sum(verdicts) / len(verdicts)
        return Judgement(met=p >= 0.5, p_met=p, explanation=explanation)
