"""Which outcome of a pitfall is the error: read from the criterion (its `polarity`, else its wording).

Under `pitfall_polarity=auto` an `avoid` pitfall ("Does not mention unrelated nerves") is judged as written
and penalised when NOT met: the reward math sees P(triggered) = 1 - P(met). The judged text is the same in
both modes, so `literal` and `auto` share every cached judgement; `ambiguous` wording is scored literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared import Criterion, PitfallPolarityMode, Polarity, pitfall_polarity


@dataclass(frozen=True)
class PitfallCall:
    polarity: Polarity
    source: str
    penalised_when: Literal["met", "not_met"]

    @property
    def flips(self) -> bool:
        return self.penalised_when == "not_met"


def reading(c: Criterion) -> tuple[Polarity, str]:
    """The polarity of a pitfall and how it was decided: the criterion's own `polarity`, else the rules."""
    if c.polarity is not None:
        return c.polarity, "given"
    call = pitfall_polarity(c.criterion, c.tags)
    return call.polarity, call.how


def decide(c: Criterion, mode: PitfallPolarityMode) -> PitfallCall | None:
    """None for a criterion that is not a pitfall."""
    if c.points >= 0:
        return None
    polarity, source = reading(c)
    flip = mode == "auto" and polarity is Polarity.avoid
    return PitfallCall(polarity, source, "not_met" if flip else "met")
