"""The heart-relatedness classifiers on hand-labelled examples, false-positive traps included."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import shared_records
from tests.servers import serve
from trainer.heart import THEMES, LLMClassifier, classify_lexical, verify_llm_label
from trainer.heart._labelled import evaluate, load_labelled

LABELLED = [
    ("I have crushing chest pain radiating to my jaw, what should I do?", "chest pain"),
    ("My Holter showed atrial fibrillation. Do I need anticoagulation?", "heart rhythm disorders (arrhythmia)"),
    (
        "A 60-year-old with troponin rise and ST elevation in V1-V4: diagnosis is acute myocardial infarction?",
        "heart attack (MI)",
    ),
    ("What lifestyle changes lower high blood pressure without medication?", "high blood pressure (hypertension)"),
    ("Severe aortic stenosis with syncope: when is valve replacement indicated?", "heart valve problems"),
    ("A newborn with a continuous machinery murmur and bounding pulses", "congenital heart disease"),
    ("How do I read the QRS axis on an ECG?", "ECG/EKG interpretation"),
    ("My heart is racing and I feel palpitations after coffee", "heart palpitations"),
    ("I feel my heart pounding after coffee in the morning.", "heart palpitations"),
    ("My blood pressure readings at home are around 150/95. What helps?", "high blood pressure (hypertension)"),
    ("Ejection fraction of 30% and ankle swelling: is this heart failure?", "heart failure"),
    ("Hypertrophic cardiomyopathy in a young athlete: screening?", "cardiomyopathy"),
    (
        "Stable angina on exertion: what is the first-line therapy for coronary artery disease?",
        "coronary artery disease",
    ),
    ("My LDL cholesterol is 190 and I smoke: what is my cardiovascular risk?", "cardiovascular risk factors"),
]

TRAPS = [
    "A 45-year-old male with a history of obesity, hypertension, alcohol abuse presents with a painful swollen toe.",
    "A 70-year-old with known hypertension and diabetes presents with cataract-related blurred vision.",
    "True about ureter's entry into bladder: e) Valveless",
    "The ileocecal valve prevents reflux of colonic contents.",
    "Management of portal hypertension with variceal bleeding",
    "Idiopathic intracranial hypertension presents with headache and papilledema.",
    "Pre-op note: 45 years old, denies chest pain or dyspnea, no major medical problems; plan hernia repair.",
    "Pleuritic chest pain with hemoptysis, sinusitis and nasal ulcers in a wire-mesh worker.",
    "Is heartburn after spicy food a sign of reflux?",
    "My blood pressure at the pharmacy was 118/76, is that fine for my knee surgery?",
    "10-year-old in the ER with tachycardia, delayed capillary refill and lactate 4: sepsis fluids?",
]


@pytest.mark.parametrize(("text", "theme"), LABELLED)
def test_lexical_assigns_the_hand_labelled_theme(text: str, theme: str) -> None:
    label = classify_lexical(text)
    assert label.heart_related and label.theme == theme
    assert label.evidence and all(e.lower() in text.lower() for e in label.evidence)


@pytest.mark.parametrize("text", TRAPS)
def test_lexical_false_positive_traps(text: str) -> None:
    label = classify_lexical(text)
    assert not label.heart_related and label.theme is None and label.evidence == ()


def test_shared_rar_sample_follows_the_labelling_guide() -> None:
    """The team's RaR sample, read by `trainer/heart/labels/README.md`: what the question asks, and what its
    reference answer turns on, decide. `../shared/README.md` names five heart-related records."""
    records = shared_records("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
    by_start = {r["question"]: classify_lexical(r["question"], answer=r["reference_answer"]) for r in records}

    def label(start: str) -> tuple[bool, str | None]:
        (lab,) = [v for k, v in by_start.items() if k.startswith(start)]
        return lab.heart_related, lab.theme

    assert label("A 9-month-old child of a diabetic mother") == (True, "cardiomyopathy")
    assert label("An elderly female who was started on thro") == (True, "heart attack (MI)")
    assert label("A 4-year-old woman has severe hypertension") == (True, "high blood pressure (hypertension)")
    # the answer decides this one: a PDA that indomethacin would have prevented
    assert label("A 4-day-old boy is monitored in the well") == (True, "congenital heart disease")
    # a PDA is one finding among many, and the answer (its first sentence) is congenital rubella
    assert label("A newborn is diagnosed with being small f") == (False, None)
    # borderline, counted by the team's README: the answer stops labetalol, but what is asked is how to read
    # the metanephrine test; one drug name is too little evidence for the rules
    assert label("A 45-year-old male with symptoms of palpit") == (False, None)
    assert sum(lab.heart_related for lab in by_start.values()) == 5  # four of the five, and one anatomy question


def test_lexical_on_the_hand_labelled_holdouts() -> None:
    """Floors at the measured level, so a rule change that loses ground fails. `holdout3` and `holdout4` were
    labelled before any classifier ran on them; each was measured once, then its misses fixed words the rules
    lacked (see `trainer/heart/labels/README.md` for the first-look numbers)."""
    floors = {"holdout2": (0.75, 0.7), "holdout3": (0.9, 0.8), "holdout4": (0.75, 0.7), "all": (0.85, 0.8)}
    for split, (precision, recall) in floors.items():
        overall = evaluate(load_labelled(split=split), classify_lexical)["overall"]
        assert overall["precision"] >= precision and overall["recall"] >= recall, (split, overall)


def test_the_right_answer_counts_like_the_ask() -> None:
    """A generic ask is about the heart when its answer is (labelling guide: what the answer turns on)."""
    ask = "A 55-year-old man has muffled heart sounds and distended neck veins. Which is the most likely diagnosis?"
    assert not classify_lexical(ask).heart_related
    label = classify_lexical(ask, answer="Cardiac tamponade")
    assert label.heart_related and label.theme == "cardiovascular disease" and "tamponade" in label.evidence
    assert not classify_lexical(ask, answer="Tension pneumothorax").heart_related
    research = "Does early mobilisation shorten the hospital stay after hip surgery?"
    assert classify_lexical(research, answer="yes") == classify_lexical(research)  # PubMedQA's yes/no says nothing
    # a reference explanation names its answer first, then walks the differential: only its opening counts
    explanation = "The answer is septic arthritis of the knee. " + "x" * 300 + " Heart failure is unlikely."
    assert not classify_lexical("Which diagnosis fits this swollen knee?", answer=explanation).heart_related


def test_labelled_set_is_complete_and_disjoint() -> None:
    records = load_labelled()
    assert len(records) == 1573 and len({r.id for r in records}) == 1573
    assert {r.split for r in records} == {"dev", "test", "holdout", "holdout2", "holdout3", "holdout4"}
    assert all((r.theme in THEMES) == r.heart_related for r in records)
    fresh = [r for r in records if r.split in ("holdout3", "holdout4")]
    assert len(fresh) == 573 and sum(r.heart_related for r in fresh) == 72
    assert all(r.answer for r in fresh)


def test_llm_label_keeps_only_evidence_found_in_the_question() -> None:
    q = "Sudden chest pain while jogging, what now?"
    reply = json.dumps({"heart_related": True, "theme": "chest pain", "evidence": ["chest pain", "troponin 5"]})
    label = verify_llm_label(q, reply)
    assert label is not None and label.heart_related and label.evidence == ("chest pain",)
    invented = json.dumps({"heart_related": True, "theme": "heart failure", "evidence": ["ejection fraction"]})
    assert not verify_llm_label(q, invented).heart_related
    assert not verify_llm_label(
        q, json.dumps({"heart_related": True, "theme": "lungs", "evidence": ["chest"]})
    ).heart_related
    assert verify_llm_label(q, "no json here") is None


@pytest.fixture
def classifier_url() -> Iterator[str]:
    """A scripted OpenAI-compatible server answering classification prompts with canned JSON."""

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        question = body["messages"][-1]["content"].split("Question:\n", 1)[1]
        if "garbage" in question:
            content = "I am not sure."
        else:
            content = json.dumps(
                {"heart_related": "heart" in question, "theme": "heart failure", "evidence": ["heart", "made up"]}
            )
        return JSONResponse(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
            }
        )

    with serve(Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])) as url:
        yield url + "/v1"


def test_llm_classifier_through_an_openai_compatible_endpoint(classifier_url: str) -> None:
    clf = LLMClassifier(classifier_url, "judge")
    label = clf("My weak heart makes me breathless")
    assert label.method == "llm" and label.theme == "heart failure" and label.evidence == ("heart",)
    # the answer travels in the prompt, and evidence may be quoted from it
    answered = clf("Which is the most likely diagnosis?", answer="Congestive heart failure")
    assert answered.method == "llm" and answered.heart_related and answered.evidence == ("heart",)
    assert not clf("A question about knees").heart_related
    fallback = clf("garbage reply for chest pain please")
    assert fallback.method.startswith("lexical") and fallback.theme == "chest pain"


def test_the_blind_set_over_the_team_samples_joins_its_labels_to_the_records() -> None:
    from tests.conftest import SHARED_DATA, shared_file
    from trainer.heart._labelled import load_shared_blind

    shared_file("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
    records = load_shared_blind(SHARED_DATA)
    assert len(records) == 254 and sum(r.heart_related for r in records) == 20
    assert all(r.text for r in records)
    rar = [r for r in records if r.source.startswith("rar")]
    assert len(rar) == 104 and all(r.answer for r in rar)  # exam questions with their reference answers
    assert all(r.answer is None for r in records if r.source.startswith("healthbench"))  # chats without one


def test_heart_eval_scores_each_view_with_bootstrap_intervals(tmp_path) -> None:
    from trainer.heart.evaluate import HeartEvalArguments, run_heart_eval

    res = run_heart_eval(
        HeartEvalArguments(split="holdout4", classifier="lexical", both_views=True, output_dir=str(tmp_path))
    )
    views = res["views"]["lexical"]
    records = load_labelled(split="holdout4")
    for view, use_answer in (("with answer", True), ("without answer", False)):
        o = evaluate(records, classify_lexical, use_answer=use_answer)["overall"]
        cell = views[view]["all"]
        assert cell["precision"] == pytest.approx(o["precision"]) and cell["recall"] == pytest.approx(o["recall"])
        assert cell["precision_ci"][0] < cell["precision"] < cell["precision_ci"][1]
        assert cell["recall_ci"][0] < cell["recall"] < cell["recall_ci"][1]
    assert views["with answer"]["all"]["recall"] > views["without answer"]["all"]["recall"]  # the answer helps
    assert "| lexical | without answer |" in (tmp_path / "report.md").read_text()
