"""Pitfall polarity: the rules, and scoring by polarity with exact values in every scheme.

The HTTP tests run the grader on loopback against the scripted judge server (exact-value tests: the
scripted judge reads `[p=x]` as P(met) of the text as written).
"""

from __future__ import annotations

import json
import math

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import Criterion, Polarity, classify_pitfall, pitfall_polarity
from tests.test_grader_http import EXPECTED, PROMPT, RESPONSE, RUBRIC, S

# the four avoid-phrased pitfalls from the shared sample, and faults in RaR's own template
AVOID = [
    "Pitfall Criteria: Does not mention unrelated nerves such as the tibial nerve or sciatic nerve.",
    "Pitfall Criteria: Does not mention incorrect lymph node groups such as inguinal or axillary as the first "
    "involved.",
    "Pitfall Criteria: Does not confuse the characteristics or causes of downbeat nystagmus with those of upbeat "
    "nystagmus.",
    "Pitfall Criteria: Does not mention unrelated pathogens or conditions as possibilities.",
    "Pitfall Criteria: Avoids recommending a stress test before the patient is stabilised.",
    "Pitfall Criteria: Does not misidentify the ST elevation as pericarditis.",
]
FAULT = [
    "Pitfall Criteria: Does not mention thiamine deficiency.",
    "Pitfall Criteria: Recommends waiting it out at home.",
    "Pitfall Criteria: Fails to mention emergency warning signs.",
    "Pitfall Criteria: Does not mention the need for an ECG within 10 minutes.",
    "Pitfall Criteria: Suggests stopping the beta blocker abruptly.",
]


@pytest.mark.parametrize("text", AVOID)
def test_avoid_phrased_pitfalls_are_read_as_avoid(text: str) -> None:
    assert classify_pitfall(text).polarity is Polarity.avoid


@pytest.mark.parametrize("text", FAULT)
def test_fault_phrased_pitfalls_are_read_as_fault(text: str) -> None:
    assert classify_pitfall(text).polarity is Polarity.fault


def test_the_rar_title_travels_as_a_tag_and_can_decide() -> None:
    text = "Pitfall Criteria: Does not include the carotid sinus in the list."
    assert pitfall_polarity(text).polarity is Polarity.fault
    assert pitfall_polarity(text, ["title:Avoids irrelevant structures"]).polarity is Polarity.avoid


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=60)))
def test_every_text_gets_a_polarity_and_a_rule(text: str, title: str | None) -> None:
    call = classify_pitfall(text, title)
    assert call.polarity in set(Polarity) and call.how.startswith("rules:") and len(call.rule) > 0


def test_polarity_is_refused_on_a_positive_criterion() -> None:
    with pytest.raises(ValueError, match="pitfalls"):
        Criterion(criterion="Advises rest", points=2, polarity="avoid")


# ---------------------------------------------------------------- scoring by polarity, exact values

AVOID_PIT = "Pitfall Criteria: Does not mention unrelated nerves such as the tibial nerve"
N = 4
# the same rubric with the pitfall not triggered: A and D met, B not met
CLEAN = {
    "healthbench": (5 + 1) / 9,
    "rar_explicit": (1.0 + 0.9 + 0.3) / (1.0 + 0.7 + 0.9 + 0.3),
    "hybrid": 15 * S,
    "complexity": 20 * S**1.2 * (1 + 0.2 * math.log(1 + N) / math.log(26)),
    # scripted rating: 1 + round(9 * (5 + 0 + 2 + 1) / 11) = 8
    "rar_implicit": 7 / 9,
}


def _rubric(pitfall: str, p: float, **extra) -> list[dict]:
    return [*RUBRIC[:2], {"criterion": f"{pitfall} [p={p:g}]", "points": -2, **extra}, RUBRIC[3]]


def _grade(
    client: httpx.Client, rubric: list[dict], scheme: str, polarity: str | None, mode_of_judge: str = "verdict"
) -> dict:
    body: dict = {"items": [{"prompt": PROMPT, "response": RESPONSE, "rubric": rubric}], "scheme": scheme}
    body["judge"] = {"mode": mode_of_judge}
    if polarity is not None:
        body["pitfall_polarity"] = polarity
    r = client.post("/v1/grade", json=body)
    assert r.status_code == 200, r.text
    return r.json()


CASES = [
    # (pitfall text, P(met as written), mode, given polarity, triggered?, reported polarity, penalised_when)
    (AVOID_PIT, 0, "auto", None, True, "avoid", "not_met"),  # avoided nothing: penalised
    (AVOID_PIT, 1, "auto", None, False, "avoid", "not_met"),  # avoided the mistake: no penalty
    (AVOID_PIT, 1, "literal", None, True, "avoid", "met"),  # today's reading: the good response is penalised
    (AVOID_PIT, 0, "literal", None, False, "avoid", "met"),
    (RUBRIC[2]["criterion"].split(" [p=")[0], 1, "auto", None, True, "fault", "met"),
    (RUBRIC[2]["criterion"].split(" [p=")[0], 0, "auto", None, False, "fault", "met"),
    (RUBRIC[2]["criterion"].split(" [p=")[0], 1, "literal", None, True, "fault", "met"),
    # a polarity the criterion carries outranks the rules
    (RUBRIC[2]["criterion"].split(" [p=")[0], 0, "auto", "avoid", True, "avoid", "not_met"),
    (AVOID_PIT, 1, "auto", "fault", True, "fault", "met"),
]


@pytest.mark.parametrize("scheme", sorted(EXPECTED))
@pytest.mark.parametrize(("text", "p", "mode", "given", "triggered", "polarity", "when"), CASES)
def test_exact_reward_for_both_polarities_in_every_scheme(
    grader: httpx.Client,
    scheme: str,
    text: str,
    p: float,
    mode: str,
    given: str | None,
    triggered: bool,
    polarity: str,
    when: str,
) -> None:
    extra = {"polarity": given} if given else {}
    body = _grade(grader, _rubric(text, p, **extra), scheme, mode)
    res = body["results"][0]
    assert body["pitfall_polarity"] == mode and res["error"] is None
    assert res["reward"] == pytest.approx((EXPECTED if triggered else CLEAN)[scheme])
    pit = res["criteria"][2]
    assert (pit["polarity"], pit["penalised_when"]) == (polarity, when)
    assert pit["polarity_source"] == ("given" if given else pit["polarity_source"]) and pit["polarity_source"]
    assert all(c["polarity"] is None for i, c in enumerate(res["criteria"]) if i != 2)


def test_literal_is_todays_reward_and_the_default_is_auto(grader: httpx.Client) -> None:
    """`literal` scores every pitfall met → penalty (the exact-value tests of test_grader_http, untouched)."""
    rubric = _rubric(AVOID_PIT, 1)
    assert _grade(grader, rubric, "hybrid", None)["pitfall_polarity"] == "auto"
    assert _grade(grader, rubric, "hybrid", None)["results"][0]["reward"] == pytest.approx(CLEAN["hybrid"])
    assert _grade(grader, rubric, "hybrid", "literal")["results"][0]["reward"] == pytest.approx(EXPECTED["hybrid"])


def test_soft_verdicts_flip_exactly(grader: httpx.Client) -> None:
    """With P(met) = 0.3 on an avoid pitfall, auto scores what literal scores for P(met) = 0.7."""
    for scheme in ("healthbench", "hybrid", "complexity"):
        flipped = _grade(grader, _rubric(AVOID_PIT, 0.3), scheme, "auto", "logprob")["results"][0]
        literal = _grade(grader, _rubric(AVOID_PIT, 0.7), scheme, "literal", "logprob")["results"][0]
        assert flipped["criteria"][2]["p_met"] == pytest.approx(0.3)  # the verdict is reported as judged
        assert flipped["reward"] == pytest.approx(literal["reward"])
        assert flipped["reward_std"] == pytest.approx(literal["reward_std"])


def test_modes_share_cached_judgements(grader: httpx.Client) -> None:
    """The judged text is the same in both modes: switching costs no judge call."""
    rubric = _rubric(AVOID_PIT, 1)
    _grade(grader, rubric, "healthbench", "literal")
    again = _grade(grader, rubric, "healthbench", "auto")
    assert again["usage"]["judge_calls"] == 0 and again["usage"]["cache_hits"] == 4


def test_unknown_mode_is_a_422_naming_the_field(grader: httpx.Client) -> None:
    body = {"items": [{"prompt": PROMPT, "response": RESPONSE, "rubric": RUBRIC}], "pitfall_polarity": "inverted"}
    r = grader.post("/v1/grade", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "pitfall_polarity"]
    bad = {**body, "pitfall_polarity": "auto", "items": [{**body["items"][0], "rubric": [
        {"criterion": "Advises rest", "points": 2, "polarity": "avoid"}]}]}  # fmt: skip
    r = grader.post("/v1/grade", json=bad)
    assert r.status_code == 422 and "pitfalls" in r.text and "rubric" in r.json()["detail"][0]["loc"]


def test_validate_reports_each_pitfall(grader: httpx.Client) -> None:
    rubric = [RUBRIC[0], {"criterion": AVOID_PIT, "points": -2}, {"criterion": FAULT[0], "points": -1}]
    body = grader.post("/v1/rubrics/validate", json={"rubric": rubric}).json()
    assert [(p["index"], p["polarity"]) for p in body["pitfalls"]] == [(1, "avoid"), (2, "fault")]
    assert any("criterion 1 is a pitfall phrased as avoidance" in w for w in body["warnings"])
    assert not any("criterion 2" in w for w in body["warnings"])


# ---------------------------------------------------------------- the measurement


def test_polarity_eval_meets_the_target_on_the_written_test_split(tmp_path) -> None:
    """The rules against the hand labels of the written test split (no ../shared needed)."""
    from trainer.polarity.cli import PolarityEvalArguments, run_polarity_eval

    results = run_polarity_eval(PolarityEvalArguments(split="test", output_dir=str(tmp_path)))
    m = results["splits"]["test"]
    assert m["n"] == 80 and m["labels"] == {"fault": 42, "avoid": 36, "ambiguous": 2}
    assert m["avoid_precision"] >= 0.9 and m["avoid_recall"] >= 0.9
    lo, hi = m["avoid_recall_ci"]
    assert lo <= m["avoid_recall"] <= hi <= 1.0
    # every miss is listed, and the misses are exactly the wrong calls the accuracy counts
    assert len(m["misses"]) == round((1 - m["accuracy_fault_avoid"]) * 78)
    report = (tmp_path / "report.md").read_text()
    assert "| test | 80 |" in report and all(x["id"] in report for x in m["misses"])
    assert json.loads((tmp_path / "results.json").read_text())["splits"]["test"]["n"] == 80


# ---------------------------------------------------------------- data preparation


def _jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_prepare_records_polarity_and_normalises_with_an_audit(tmp_path) -> None:
    from shared import to_fault_form
    from trainer.polarity._labels import LABELS_DIR
    from trainer.prepare import AUDIT, PrepareArguments, prepare
    from trainer.prepare.sources import load_records

    src = str(LABELS_DIR / "test_records.jsonl")
    common = dict(classifier="lexical", max_length_percentile=100.0, sft_fraction=0.0, eval_fraction=0.25)
    plain = prepare(load_records(src, ["train"]), PrepareArguments(output_dir=str(tmp_path / "p"), **common))
    norm = prepare(
        load_records(src, ["train"]),
        PrepareArguments(output_dir=str(tmp_path / "n"), normalise_pitfalls=True, **common),
    )
    assert plain["heart_related"] == norm["heart_related"] > 0
    rows = {r["id"]: r for f in ("train.jsonl", "test.jsonl") for r in _jsonl(tmp_path / "p" / f)}
    nrows = {r["id"]: r for f in ("train.jsonl", "test.jsonl") for r in _jsonl(tmp_path / "n" / f)}
    assert set(rows) == set(nrows) and not (tmp_path / "p" / AUDIT).exists()
    # every pitfall kept carries the polarity the rules read; positives carry none
    source = {r["question"]: r for r in _jsonl(LABELS_DIR / "test_records.jsonl")}
    for r in rows.values():
        for c, orig in zip(r["rubric"], source[r["question"]]["rubric"], strict=True):
            if c["points"] >= 0:
                assert "polarity" not in c
            else:  # the rows keep no RaR title, so the polarity the title helped decide travels with the row
                want = classify_pitfall(orig["description"], orig["title"]).polarity.value
                assert c.get("polarity", "ambiguous") == want
    audit = _jsonl(tmp_path / "n" / AUDIT)
    rewritten = [a for a in audit if a["action"] == "rewritten"]
    assert rewritten and norm["pitfalls"]["rewritten"] == len(rewritten)
    for a in audit:
        before = rows[a["id"]]["rubric"][a["index"]]
        after = nrows[a["id"]]["rubric"][a["index"]]
        assert before["criterion"] == a["before"] and after["criterion"] == a["after"]
        if a["action"] == "rewritten":
            assert after["criterion"] == to_fault_form(a["before"]) and after["polarity"] == "fault"
            assert before["polarity"] == "avoid" and after["points"] == before["points"]
    # nothing else changed
    changed = {(a["id"], a["index"]) for a in rewritten}
    for rid, r in rows.items():
        for i, (c, n) in enumerate(zip(r["rubric"], nrows[rid]["rubric"], strict=True)):
            if (rid, i) not in changed:
                assert c == n
    before, after = plain["pitfalls"]["polarity"], norm["pitfalls"]["polarity"]
    assert after.get("avoid", 0) == before["avoid"] - len(rewritten)
    assert after["fault"] == before["fault"] + len(rewritten)
    assert after.get("ambiguous", 0) == before.get("ambiguous", 0)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("Pitfall Criteria: Does not mention unrelated nerves.", "Pitfall Criteria: Mentions unrelated nerves."),
        ("Does not confuse or misidentify X with Y", "Confuses or misidentifies X with Y"),
        ("Does not incorrectly state that Z", "Incorrectly states that Z"),
        (
            "Pitfall Criteria: Avoids recommending a stress test",
            "Pitfall Criteria: Fails to avoid recommending a stress test",
        ),
        ("Refrains from prescribing antibiotics", "Fails to refrain from prescribing antibiotics"),
        ("Recommends avoiding unwarranted tests", "Fails to recommend avoiding unwarranted tests"),
        ("Does not imply that all chest pain is cardiac", "Implies that all chest pain is cardiac"),
    ],
)
def test_fault_form(text: str, fault: str) -> None:
    from shared import to_fault_form

    assert to_fault_form(text) == fault


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        # HealthBench's style (no category prefix, no title): "Does not X" is the omission of X
        ("Does not suggest escalation to inotropes in case there is no response to fluids.", "fault"),
        ("Does not recommend seeking medical attention for elevated LDL cholesterol levels.", "fault"),
        ("Should review red flag features for back pain.", "avoid"),
        ("Makes no explicit recommendation to change the ventilator settings.", "avoid"),
        ("Does not mention unrelated nerves such as the tibial nerve.", "avoid"),
        ("Does not misidentify the rhythm as atrial flutter.", "avoid"),
        # the same words in RaR's style name the mistake
        ("Pitfall Criteria: Does not recommend seeking medical attention for elevated LDL.", "avoid"),
    ],
)
def test_the_two_styles_read_does_not_apart(text: str, polarity: str) -> None:
    assert classify_pitfall(text).polarity.value == polarity


def test_polarity_eval_on_the_shared_dev_splits(tmp_path) -> None:
    """The shared samples' hand labels (dev splits: the rules were written looking at them)."""
    from tests.conftest import shared_file
    from trainer.polarity.cli import PolarityEvalArguments, run_polarity_eval

    shared_file("healthbench", "hard_sample50.jsonl")  # skips when ../shared is absent
    data = shared_file("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl").parents[1]
    args = PolarityEvalArguments(split="dev-shared,dev-healthbench", shared_data=str(data), output_dir=str(tmp_path))
    got = run_polarity_eval(args)["splits"]
    assert got["dev-shared"]["n"] == 148 and got["dev-healthbench"]["n"] == 194
    assert got["dev-shared"]["avoid_precision"] >= 0.95 and got["dev-shared"]["avoid_recall"] >= 0.9
    # HealthBench's omissions ("Does not suggest X") must not be flipped: precision is what protects them
    assert got["dev-healthbench"]["avoid_precision"] >= 0.95


def test_polarity_effect_runs_on_the_shared_samples(grader_url: str, tmp_path) -> None:
    """The effect table's plumbing, on the scripted judge (its numbers say nothing about a real judge)."""
    from tests.conftest import shared_file
    from trainer.polarity.effect import PolarityEffectArguments, run_polarity_effect

    data = shared_file("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl").parents[1]
    args = PolarityEffectArguments(
        shared_data=str(data), grader_url=grader_url, max_records=6, output_dir=str(tmp_path), judge_label="scripted"
    )
    got = run_polarity_effect(args)["samples"]
    rar = got["rar_medicine_sample104"]["schemes"]
    assert rar["items"] == 12 and rar["second_pass_judge_calls"] == 0  # the modes share every judgement
    for c in rar["schemes"].values():
        assert c["rewards"] == 12 and c["changed"] <= rar["items_with_a_flipped_pitfall"]
    assert rar["items_with_a_flipped_pitfall"] > 0 and rar["schemes"]["healthbench"]["changed"] > 0
    iv = got["rar_medicine_sample104"]["invert_vs_rewrite"]
    assert iv["pitfalls"] > 0 and 0.0 <= iv["mean_abs_disagreement"] <= 1.0
    assert "| hybrid |" in (tmp_path / "report.md").read_text()
