"""logprob: one YES/NO token; P(met) is P(YES) / (P(YES) + P(NO)) at the answer position."""

from __future__ import annotations

from grader_service._redact import sanitize
from grader_service.judge import _prompts as prompts
from grader_service.judge._answer import alternatives, answer_position, yes_no
from grader_service.judge._base import JudgeError, Judgement
from grader_service.judge._parse import parse_verdict
from grader_service.judge.modes._call import JudgeCall
from shared import Criterion, ErrorType

ROOMY_ANSWER_TOKENS = 6  # when the first token holds no letter ("**", a newline), let the answer come


class Logprob:
    name = "logprob"

    async def judge(self, call: JudgeCall, criterion: Criterion) -> Judgement:
        messages = call.messages(criterion, prompts.YESNO_TAIL)
        answer_tokens = call.knobs.logprob_answer_tokens
        while True:
            ans, choice, budgeted = await call.ask(call.logprob_spec(messages, answer_tokens), truncation_ok=True)
            tokens = choice.logprobs if call.caps.logprobs else None
            pos = answer_position(tokens, ans.final) if tokens else None
            roomy = answer_tokens >= ROOMY_ANSWER_TOKENS or budgeted
            if not roomy and (not ans.final or (tokens and pos is None)):
                answer_tokens = ROOMY_ANSWER_TOKENS
                continue
            break
        if tokens:
            yn = yes_no(alternatives(tokens[pos])) if pos is not None else None
            mass = yn.mass if yn is not None else 0.0
            floor = call.knobs.min_answer_mass
            if yn is None or mass < floor:
                raise JudgeError(
                    ErrorType.judge_low_answer_mass,
                    f"YES and NO hold {mass:.0%} of the probability at the answer position (needed: "
                    f"{floor:.0%}); answer was {sanitize(ans.final, 40)!r}. If the model reasons "
                    "before answering, set GRADER_JUDGE_FAMILY to its family (e.g. deepseek-r1, gpt-oss); "
                    "otherwise use verdict mode",
                )
            return Judgement(met=yn.p_yes >= 0.5, p_met=yn.p_yes, answer_mass=mass)
        parsed = parse_verdict(ans.final)
        if parsed is None:
            raise JudgeError(
                ErrorType.judge_unparseable,
                f"no YES/NO answer and no logprobs; got {sanitize(ans.final, 80)!r}",
            )
        note = "judge returned no logprobs; hard verdict from its answer"
        return Judgement(met=parsed.met, p_met=1.0 if parsed.met else 0.0, explanation=note)
