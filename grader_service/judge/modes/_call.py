"""What a judge mode is handed: one criterion's (or rubric's) session with the judge.

A mode builds its requests (`CallSpec`) and reads the answers; the session owns sending (limits, retries,
adaptation to refusals, accounting) and finding the final answer in a reply, so every mode shares them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from grader_service.judge import _prompts as prompts
from grader_service.judge._answer import Answer, starts_reasoning
from grader_service.judge._base import ItemContext, JudgeError, JudgeRequestOptions
from grader_service.judge._wire import Choice, Reply
from grader_service.judge.families import CallSpec, Capabilities, JudgeFamily
from shared import Criterion, ErrorType


@dataclass(frozen=True)
class Knobs:
    """The judge's settings a mode reads (GRADER_JUDGE_*)."""

    max_tokens: int = 512
    max_reparse: int = 2
    top_logprobs: int = 10
    logprob_answer_tokens: int = 1
    reasoning_budget: int = 2048
    min_answer_mass: float = 0.5


class Learned(Exception):
    """The reply showed the model reasons before answering; the call is repeated with a reasoning budget."""


Send = Callable[[CallSpec], Awaitable[tuple[Reply, bool]]]


@dataclass
class JudgeCall:
    """One item's exchange with the judge, as a mode sees it."""

    ctx: ItemContext
    opts: JudgeRequestOptions
    family: JudgeFamily
    caps: Capabilities
    knobs: Knobs
    send: Send  # one chat completion: the reply, and whether it carried a reasoning budget

    def messages(self, c: Criterion, tail: str) -> list[dict[str, str]]:
        """Our prompt for one criterion, or the user's own template when the request (or the grader) has one."""
        if self.opts.custom_template is not None:
            return prompts.render_custom(self.opts.custom_template, self.ctx.conversation, self.ctx.response, c)
        return prompts.criterion_messages(self.ctx.block(self.opts.template), c, tail)

    def spec(self, messages: list[dict[str, str]], *, n: int = 1) -> CallSpec:
        """A free-text request: the judge's token limit and the request's temperature."""
        return CallSpec(self.opts.model, messages, self.knobs.max_tokens, self.opts.temperature, n=n)

    def logprob_spec(self, messages: list[dict[str, str]], answer_tokens: int) -> CallSpec:
        return CallSpec(
            self.opts.model, messages, answer_tokens, 0.0, logprobs=True, top_logprobs=self.knobs.top_logprobs
        )

    async def ask(self, spec: CallSpec, *, truncation_ok: bool) -> tuple[Answer, Choice, bool]:
        """One call and its first choice's final answer, asked again once if the model turns out to reason."""
        while True:
            reply, budgeted = await self.send(spec)
            choice = reply.choices[0]
            try:
                return self.final(choice, reply, budgeted, truncation_ok=truncation_ok), choice, budgeted
            except Learned:
                continue

    def final(self, choice: Choice, reply: Reply, budgeted: bool, *, truncation_ok: bool) -> Answer:
        """The final answer of a reply; raises `Learned` or a typed truncation error when there is none."""
        fam, caps, budget = self.family, self.caps, self.knobs.reasoning_budget
        ans = fam.answer(choice.content, choice.reasoning)
        first = choice.logprobs[0].token if choice.logprobs else ""
        # signs of reasoning the text may not show: hidden reasoning tokens, a parser that dropped the tag
        hidden = reply.reasoning_tokens > 0 or starts_reasoning(first, "")
        length = choice.finish_reason == "length"
        empty_cut = length and not ans.final and (ans.reasoned or hidden)
        if ans.closed and not empty_cut and not (length and not truncation_ok):
            return ans
        if not budgeted and (
            not ans.closed or ans.reasoned or hidden or starts_reasoning(choice.content, choice.reasoning)
        ):
            if not caps.reasoning:  # concurrent calls may have learned it already
                caps.reasoning = True
                caps.learned.append(
                    f"the model reasons before answering: calls get a reasoning budget of {budget} "
                    f"tokens; to save time turn thinking off ({fam.thinking_off_hint(caps)})"
                )
            raise Learned
        if budgeted:
            hint = fam.thinking_off_hint(caps)
            fix = f"raise GRADER_JUDGE_REASONING_BUDGET (now {budget}) or turn thinking off ({hint})"
        else:
            fix = f"raise GRADER_JUDGE_MAX_TOKENS (now {self.knobs.max_tokens})"
        raise JudgeError(ErrorType.judge_truncated, f"the judge's reply was cut off before its answer: {fix}")
