"""Pitfall polarity: does a pitfall's text describe the mistake (`fault`) or avoiding it (`avoid`)?

RaR-Medicine scores every pitfall "met → penalty", which is right for "Does not mention thiamine
deficiency" (the omission is the fault) and inverted for "Does not mention unrelated nerves such as the
tibial nerve" (met = the response avoided the mistake). These rules read the criterion's wording: the
leading verb, its negation, and whether the object is marked as wrong ("incorrect", "unrelated",
"irrelevant", "which is incorrect", ...). The labelling guide and the hand labels they are measured on
are in `trainer/polarity/labels/`; `python -m trainer polarity-eval` measures them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shared._categories import split_prefix


class Polarity(StrEnum):
    fault = "fault"  # met = the response errs: penalise when met (the literal reading)
    avoid = "avoid"  # met = the response avoids the error: penalise when NOT met
    ambiguous = "ambiguous"  # the wording does not say; scored literally unless a judge decides


@dataclass(frozen=True)
class PolarityCall:
    polarity: Polarity
    rule: str  # which rule decided, for the validate and grade responses

    @property
    def how(self) -> str:
        return f"rules:{self.rule}"


_F = re.IGNORECASE
# the object is marked as wrong, so not doing it is the good behaviour
_WRONG = re.compile(
    r"\b(incorrect(ly)?|wrong(ly)?|unrelated|irrelevant|non[- ]?related|non[- ]?specific|not related|"
    r"not associated|not indicative|not (the )?primary|other than|misleading|mislead|unnecessary|unneeded|"
    r"inappropriate|unwarranted|unjustified|unproven|vague|erroneous(ly)?|false|accidental(ly)?|"
    r"mistaken(ly)?|misdiagnos\w*|misidentif\w*|misinterpret\w*|confus\w*|universal|"
    r"(which|as it) (is|are) (incorrect|wrong|misleading|not)|"
    r"without (proper|clear|specific|detailed|justif\w*|strong|adequate|confirm\w*))\b",
    _F,
)
# "or lacks clarity", "and instead suggests": the sentence also names a fault outright
_ALSO_FAULT = re.compile(
    r"\b(or|and) (instead |then )?(lacks|fails|incorrectly|inadequately|ignores|omits|misses|provides incorrect|"
    r"suggests|recommends|states)\b",
    _F,
)
# "Does not <verb>": verbs that name a mistake (so not doing it is good) or a double negative
_AVOID_VERBS = (
    r"(mis\w+|confuse|conflate|overgeneralize|overgeneralise|generalize|generalise|overstate|overemphasi[sz]e|"
    r"imply|suggest|recommend|endorse|support|attribute|claim|assert|dismiss|withhold|rely|delay|"
    r"exaggerate|overlook|omit|fail|ignore|neglect|miss|skip|forget|incorrectly|wrongly|mistakenly|"
    r"falsely|erroneously|state that|say that|expand)"
)
_DOES_NOT_AVOID = re.compile(rf"^(does not|doesn't|do not|never) (also )?{_AVOID_VERBS}\b", _F)
_DOES_NOT_OR_AVOID = re.compile(rf"^(does not|doesn't) \w+ or {_AVOID_VERBS}\b", _F)
_DOES_NOT = re.compile(r"^(does not|doesn't|do not|never)\b", _F)
_AVOIDS = re.compile(r"^(avoids?|refrains?|abstains?|steers? clear|is careful not|takes care not)\b", _F)
_RECOMMENDS_AGAINST = re.compile(r"^(recommends|advises|suggests) (avoiding|against|not)\b", _F)
_WITHOUT_WRONG = re.compile(
    r"\bwithout (proposing|suggesting|mentioning|including|adding|giving) (any )?(incorrect|wrong|unrelated|"
    r"irrelevant|misleading)\b",
    _F,
)
# a sentence that opens with a mistake (the literal, fault reading)
_FAULT_START = re.compile(
    r"^(recommends|suggests|states|claims|asserts|mentions|includes|uses|describes|proposes|prescribes|"
    r"orders|identifies|diagnoses|treats|attributes|confuses|conflates|misidentifies|misinterprets|"
    r"misdiagnoses|incorrectly|wrongly|erroneously|fails|ignores|overlooks|omits|misses|neglects|lacks|"
    r"arrives|delays|dismisses|overstates|exaggerates|provides|gives|offers|implies|advises|concludes|"
    r"relies|skips|underestimates|overestimates|focuses|limits)\b",
    _F,
)
_AVOID_TITLE = re.compile(r"^(avoids?|excludes?|refrains?|prevents?)\b", _F)
_MISTAKE_TITLE = re.compile(r"(mistake|misinterpret|misidentif|misattribut|error|confus|incorrect|wrong)", _F)
_OMISSION_TITLE = re.compile(r"(omit|omission|miss|overlook|lack|ignor|fail|absent|neglect|forget)", _F)


def _text(criterion: str) -> str:
    _, body = split_prefix(criterion)
    return body.strip().lstrip("-–•* ").strip()


def classify_pitfall(criterion: str, title: str | None = None) -> PolarityCall:
    """The polarity of one pitfall criterion from its wording (and its RaR title, where it has one).

    Two styles, because the same words mean opposite things in them: a RaR-style pitfall (a category
    prefix such as "Pitfall Criteria:", or a RaR title) saying "Does not recommend X" names X as the
    mistake (12 of 12 in the labelled RaR records), while a plain negative criterion in HealthBench's style
    saying "Does not suggest X" names the omission of X (the physicians' convention there).
    """
    category, _ = split_prefix(criterion)
    text = _text(criterion)
    title = (title or "").strip()
    if category is None and not title:
        return _plain(text)
    return _rar(text, title)


def _rar(text: str, title: str) -> PolarityCall:
    if _AVOIDS.match(text):
        return PolarityCall(Polarity.avoid, "avoids")
    if _RECOMMENDS_AGAINST.match(text):  # "Recommends avoiding unwarranted tests" vs "... against colchicine"
        rest = text.split(" ", 2)[2] if text.count(" ") >= 2 else ""
        wrong = _WRONG.search(re.sub(r"\bwithout .*", "", rest))
        return (
            PolarityCall(Polarity.avoid, "recommends-against-wrong")
            if wrong
            else PolarityCall(Polarity.fault, "recommends-against-needed")
        )
    if _DOES_NOT.match(text):
        if _ALSO_FAULT.search(text):
            return PolarityCall(Polarity.fault, "does-not-or-fault")
        if _DOES_NOT_AVOID.match(text) or _DOES_NOT_OR_AVOID.match(text):
            return PolarityCall(Polarity.avoid, "does-not-mistake-verb")
        if _WRONG.search(text):
            return PolarityCall(Polarity.avoid, "does-not-wrong-object")
        if _AVOID_TITLE.match(title):
            return PolarityCall(Polarity.avoid, "does-not-avoid-title")
        if _MISTAKE_TITLE.search(title) and not _OMISSION_TITLE.search(title):
            return PolarityCall(Polarity.ambiguous, "does-not-mistake-title")
        return PolarityCall(Polarity.fault, "does-not-needed-object")
    if _WITHOUT_WRONG.search(text):
        return PolarityCall(Polarity.avoid, "without-wrong")
    if _FAULT_START.match(text):
        return PolarityCall(Polarity.fault, "names-the-mistake")
    return PolarityCall(Polarity.fault, "default")


# plain style: only forms that cannot name an omission
_PLAIN_SHOULD = re.compile(r"^(the (assistant|response|model) )?should\b", _F)  # "Should review red flags" (-6)
_PLAIN_MAKES_NO = re.compile(r"^(makes|gives|offers|provides) no\b", _F)
_PLAIN_MISTAKE = re.compile(
    r"^(does not|doesn't|never) (mis\w+|confuse|conflate|overstate|exaggerate|incorrectly|wrongly|mistakenly|"
    r"falsely|erroneously)\b",
    _F,
)
_PLAIN_WRONG_OBJECT = re.compile(
    r"^(does not|doesn't|never) (mention|include|list|suggest|recommend|propose|give|prescribe) (any |an? |the )?"
    r"(incorrect|unrelated|irrelevant|wrong|inappropriate|unnecessary|misleading|outdated|unproven)\b",
    _F,
)


def _plain(text: str) -> PolarityCall:
    if _AVOIDS.match(text):
        return PolarityCall(Polarity.avoid, "plain:avoids")
    if _PLAIN_SHOULD.match(text):
        return PolarityCall(Polarity.avoid, "plain:should")
    if _PLAIN_MAKES_NO.match(text):
        return PolarityCall(Polarity.avoid, "plain:makes-no")
    if _PLAIN_MISTAKE.match(text):
        return PolarityCall(Polarity.avoid, "plain:does-not-mistake-verb")
    if _PLAIN_WRONG_OBJECT.match(text):
        return PolarityCall(Polarity.avoid, "plain:does-not-wrong-object")
    return PolarityCall(Polarity.fault, "plain:names-the-fault")


_TITLE_TAG = "title:"


def pitfall_polarity(criterion: str, tags: list[str] | tuple[str, ...] = ()) -> PolarityCall:
    """`classify_pitfall` for a criterion as the loaders give it: the RaR title travels as a `title:` tag."""
    title = next((t[len(_TITLE_TAG) :] for t in tags if t.startswith(_TITLE_TAG)), None)
    return classify_pitfall(criterion, title)


# ---------------------------------------------------------------- fault form

_NEGATED = re.compile(r"^(does not|doesn't|do not|never) (also )?(?P<verb>[a-z]+)(?P<rest>.*)$", _F)
_NEGATED_OR = re.compile(r"^(?P<verb>[a-z]+) or (?P<verb2>[a-z]+)(?P<rest>\b.*)$", _F)
_AVOIDS_FORM = re.compile(r"^(?P<verb>avoids?|refrains? from|steers? clear of|is careful not to|takes care not to) "
                          r"(?P<rest>.+)$", _F)  # fmt: skip
_IRREGULAR = {"have": "has", "do": "does", "go": "goes", "be": "is"}


def third_person(verb: str) -> str:
    """'mention' -> 'mentions', 'imply' -> 'implies', 'confuse' -> 'confuses', 'miss' -> 'misses'."""
    low = verb.lower()
    if low in _IRREGULAR:
        out = _IRREGULAR[low]
    elif re.search(r"(s|sh|ch|x|z|o)$", low):
        out = low + "es"
    elif re.search(r"[^aeiou]y$", low):
        out = low[:-1] + "ies"
    else:
        out = low + "s"
    return out.capitalize() if verb[:1].isupper() else out


_ADVERB = ("incorrectly", "wrongly", "mistakenly", "falsely", "erroneously", "inappropriately", "unnecessarily")


def to_fault_form(criterion: str) -> str | None:
    """An avoid-phrased pitfall rewritten so that met = the response errs, or None where no safe rewrite exists.

    "Does not mention unrelated nerves" -> "Mentions unrelated nerves"; "Avoids giving a diagnosis" ->
    "Fails to avoid giving a diagnosis". The category prefix ("Pitfall Criteria: ") is kept as written.
    """
    _, body = split_prefix(criterion)
    text = body.strip()
    head = criterion[: len(criterion) - len(body)] + body[: len(body) - len(body.lstrip())]
    if m := _NEGATED.match(text):
        words = f"{m.group('verb')}{m.group('rest')}"
        adverb = ""
        if m.group("verb").lower() in _ADVERB:  # "does not incorrectly state X" -> "Incorrectly states X"
            adverb, _, words = words.partition(" ")
            adverb += " "
        first = words.split(" ", 1)[0].lower()
        if not first.isalpha() or first in ("not", "no", "any", "a", "an", "the"):
            return None
        if m2 := _NEGATED_OR.match(words):
            fault = f"{third_person(m2.group('verb'))} or {third_person(m2.group('verb2'))}{m2.group('rest')}"
        else:
            verb, _, rest = words.partition(" ")
            fault = f"{third_person(verb)} {rest}".rstrip()
        fault = f"{adverb}{fault}"
        return f"{head}{fault[:1].upper()}{fault[1:]}"
    if m := _AVOIDS_FORM.match(text):
        phrase = m.group("verb").lower().split()
        base = {"avoid": "avoid", "avoids": "avoid", "refrain": "refrain", "refrains": "refrain", "steer": "steer",
                "steers": "steer", "is": "be", "take": "take", "takes": "take"}[phrase[0]]  # fmt: skip
        return f"{head}Fails to {' '.join([base, *phrase[1:]])} {m.group('rest')}"
    verb, _, rest = text.partition(" ")
    if rest and re.fullmatch(r"[A-Za-z]+s", verb):  # "Recommends avoiding X" -> "Fails to recommend avoiding X"
        return f"{head}Fails to {base_form(verb)} {rest}"
    return None


def base_form(verb: str) -> str:
    """'recommends' -> 'recommend', 'implies' -> 'imply', 'misses' -> 'miss': `third_person` undone."""
    low = verb.lower()
    inverse = {v: k for k, v in _IRREGULAR.items()}
    if low in inverse:
        return inverse[low]
    if low.endswith("ies"):
        return low[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z|o)es$", low):
        return low[:-2]
    return low[:-1] if low.endswith("s") else low
