"""Judge backends behind one small interface (`Judge`), so tests and deployments can swap them."""

from grader_service.judge._base import ItemContext, Judge, JudgeError, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._cached import CachedJudge
from grader_service.judge._openai import OpenAIJudge, RetryPolicy
from grader_service.judge._transport import make_transport

__all__ = [
    "CachedJudge",
    "ItemContext",
    "Judge",
    "JudgeError",
    "JudgeRequestOptions",
    "Judgement",
    "OpenAIJudge",
    "RatingJudgement",
    "RetryPolicy",
    "make_transport",
]
