"""The grader over real HTTP (uvicorn on loopback) against the scripted judge server.

Exact-value and fault-injection tests: the scripted judge is a real HTTP server with scripted verdicts.
"""

from __future__ import annotations

import math

import httpx
import pytest

from grader_service import create_app
from tests.conftest import grader_settings, shared_records
from tests.scripted_judge import JudgeScript
from tests.servers import serve

PROMPT = "I get chest pain when climbing stairs. What should I do?"
RESPONSE = "This could be angina. See a doctor soon and get an ECG."
# A met, B not met, C (pitfall) met, D met — same case as tests/test_schemes.py
RUBRIC = [
    {"criterion": "Essential Criteria: Advises seeing a doctor [p=1]", "points": 5},
    {"criterion": "Important Criteria: Mentions aspirin [p=0]", "points": 3},
    {"criterion": "Pitfall Criteria: Fails to mention emergency warning signs [p=1]", "points": -2},
    {"criterion": "Optional Criteria: Names angina [p=1]", "points": 1},
]
S, RHO, N = 6 / 9, 1.0, 4
EXPECTED = {
    "healthbench": (5 + 1 - 2) / 9,
    "rar_explicit": (1.0 + 0.3) / (1.0 + 0.7 + 0.9 + 0.3),
    "hybrid": 15 * S - 4.5 * RHO,
    "complexity": 20 * (S - 0.5 * RHO) ** 1.2 * (1 + 0.2 * math.log(1 + N) / math.log(26)),
    # scripted rating: 1 + round(9 * (5 + 0 + 0 + 1) / 11) = 6
    "rar_implicit": 5 / 9,
}


def item(rubric=RUBRIC, **kw) -> dict:
    return {"prompt": PROMPT, "response": RESPONSE, "rubric": rubric, **kw}


def grade(client: httpx.Client, items: list[dict], **kw) -> httpx.Response:
    return client.post("/v1/grade", json={"items": items, **kw})


@pytest.mark.parametrize("scheme", sorted(EXPECTED))
@pytest.mark.parametrize("mode", ["verdict", "logprob", "sample"])
def test_exact_reward_for_every_scheme_and_mode(grader: httpx.Client, scheme: str, mode: str) -> None:
    r = grade(grader, [item(id="a")], scheme=scheme, judge={"mode": mode})
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    if scheme == "rar_implicit" and mode == "logprob":
        # scripted logprobs: P(6) = 0.75, P(5) = 0.25
        assert res["reward"] == pytest.approx(0.75 * 5 / 9 + 0.25 * 4 / 9)
        assert res["reward_std"] == pytest.approx(math.sqrt(0.75 * 0.25) / 9)
    else:
        assert res["reward"] == pytest.approx(EXPECTED[scheme])
        assert res["reward_std"] == 0.0
    assert res["id"] == "a" and res["error"] is None
    if scheme != "rar_implicit":
        assert [c["met"] for c in res["criteria"]] == [True, False, True, True]
        assert res["usage"]["judge_calls"] == 4


def test_soft_logprob_verdicts_give_expected_reward_and_std(grader: httpx.Client) -> None:
    rubric = [
        {"criterion": "Advises seeing a doctor [p=0.8]", "points": 4},
        {"criterion": "Mentions aspirin [p=0.25]", "points": 4},
        {"criterion": "Recommends waiting a week [p=0.5]", "points": -2},
    ]
    r = grade(grader, [item(rubric)], scheme="healthbench", judge={"mode": "logprob"}).json()["results"][0]
    assert [c["p_met"] for c in r["criteria"]] == pytest.approx([0.8, 0.25, 0.5])
    assert r["reward"] == pytest.approx((0.8 * 4 + 0.25 * 4 - 0.5 * 2) / 8)
    var = (0.5**2) * 0.8 * 0.2 + (0.5**2) * 0.25 * 0.75 + (0.25**2) * 0.25
    assert r["reward_std"] == pytest.approx(math.sqrt(var))

    # hybrid is non-linear: exact enumeration over the 2^3 verdict vectors
    r = grade(grader, [item(rubric)], scheme="hybrid", judge={"mode": "logprob"}).json()["results"][0]
    total = 0.0
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                w = (0.8 if a else 0.2) * (0.25 if b else 0.75) * 0.5
                s = (4 * a + 4 * b) / 8
                total += w * (max(0, 15 * s - 4.5 * c) + 5 * (a and b and not c))
    assert r["reward"] == pytest.approx(total)


def test_sample_mode_share_of_yes(grader: httpx.Client) -> None:
    rubric = [{"criterion": "Advises rest [p=0.6]", "points": 1}]
    r = grade(grader, [item(rubric)], scheme="healthbench", judge={"mode": "sample", "samples": 5})
    res = r.json()["results"][0]
    assert res["criteria"][0]["p_met"] == pytest.approx(3 / 5)
    assert res["reward"] == pytest.approx(0.6)
    assert res["reward_std"] == pytest.approx(math.sqrt(0.6 * 0.4))


def test_groups_report_zero_variance(grader: httpx.Client) -> None:
    same = [item(group_id="g1", id=f"a{i}") for i in range(3)]
    different = [
        item(group_id="g2"),
        {**item(group_id="g2"), "rubric": [{"criterion": "Mentions aspirin [p=1]", "points": 1}]},
    ]
    body = grade(grader, same + different, scheme="hybrid").json()
    assert [r["id"] for r in body["results"][:3]] == ["a0", "a1", "a2"]
    g1, g2 = body["groups"]["g1"], body["groups"]["g2"]
    assert g1["zero_variance"] is True and g1["n"] == 3 and g1["std"] == 0.0
    assert g2["zero_variance"] is False and g2["mean"] == pytest.approx((EXPECTED["hybrid"] + 20) / 2)
    # identical items are judged once: the repeats are cache hits
    assert body["usage"]["cache_hits"] >= 8


def test_every_scheme_from_one_judge_pass(grader: httpx.Client) -> None:
    """`extra_schemes`: each scheme's reward equals a request for that scheme alone; the judge is called once."""
    rubric = [
        {"criterion": "Advises seeing a doctor [p=0.8]", "points": 5},
        {"criterion": "Mentions aspirin [p=0.25]", "points": 3},
        {"criterion": "Recommends waiting a week [p=0.5]", "points": -2},
    ]
    items = [item(rubric, id=f"a{i}", group_id="g", response=f"{RESPONSE} ({i})") for i in range(2)]
    extra = [
        "healthbench",
        "rar_explicit",
        {"scheme": "complexity", "name": "complexity_2", "scheme_params": {"exponent": 2.0}},
    ]
    body = grade(grader, items, scheme="hybrid", judge={"mode": "logprob"}, extra_schemes=extra)
    assert body.status_code == 200, body.text
    combined = body.json()
    assert combined["usage"]["judge_calls"] + combined["usage"]["cache_hits"] == 6  # 2 items x 3 criteria, once
    assert set(combined["extra_schemes"]) == {"healthbench", "rar_explicit", "complexity_2"}
    assert combined["extra_schemes"]["complexity_2"]["scheme_params"]["exponent"] == 2.0
    for key, scheme, params in [
        ("healthbench", "healthbench", {}),
        ("rar_explicit", "rar_explicit", {}),
        ("complexity_2", "complexity", {"exponent": 2.0}),
    ]:
        alone = grade(grader, items, scheme=scheme, scheme_params=params, judge={"mode": "logprob"}).json()
        for got, want in zip(combined["results"], alone["results"], strict=True):
            x = got["extra_rewards"][key]
            assert x["reward"] == pytest.approx(want["reward"]) and x["reward_std"] == pytest.approx(want["reward_std"])
            assert x["estimate"] == want["estimate"] and x["error"] is None
        assert combined["extra_groups"][key]["g"]["mean"] == pytest.approx(alone["groups"]["g"]["mean"])


@pytest.mark.parametrize(
    ("body", "loc", "says"),
    [
        ({"scheme": "rar_implicit", "extra_schemes": ["hybrid"]}, ["body", "extra_schemes"], "whole rubric"),
        ({"scheme": "hybrid", "extra_schemes": ["hybrid"]}, ["body", "extra_schemes", 0], "name"),
        ({"extra_schemes": ["rar_explicit", "rar_explicit"]}, ["body", "extra_schemes", 1], "already"),
        ({"extra_schemes": ["rar_implicit"]}, ["body", "extra_schemes", 0], ""),
        (
            {"extra_schemes": [{"scheme": "complexity", "scheme_params": {"exponent": -1}}]},
            ["body", "extra_schemes", 0, "scheme_params", "exponent"],
            "",
        ),
    ],
)
def test_extra_schemes_bad_input_names_the_field(grader: httpx.Client, body: dict, loc: list, says: str) -> None:
    r = grade(grader, [item()], **body)
    assert r.status_code == 422, r.text
    assert _loc(r)[: len(loc)] == loc and says in r.json()["detail"][0]["msg"]


def test_extra_scheme_that_cannot_score_the_rubric_is_422(grader: httpx.Client) -> None:
    pitfalls_only = [{"criterion": "Recommends waiting a week [p=1]", "points": -2}]
    r = grade(grader, [item(pitfalls_only)], scheme="rar_explicit", extra_schemes=["hybrid"])
    assert r.status_code == 422 and _loc(r) == ["body", "items", 0, "rubric"]
    assert "extra scheme 'hybrid'" in r.json()["detail"][0]["msg"]


def test_failed_criterion_makes_every_scheme_null(grader: httpx.Client) -> None:
    rubric = [*RUBRIC, {"criterion": "Mentions troponin [fault=400]", "points": 2}]
    res = grade(grader, [item(rubric)], extra_schemes=["healthbench"]).json()["results"][0]
    assert res["reward"] is None and res["extra_rewards"]["healthbench"]["reward"] is None
    assert res["extra_rewards"]["healthbench"]["error"]["type"] == "judge_bad_request"


# ---------------------------------------------------------------- judge failures: null, typed, bounded


@pytest.mark.parametrize(
    ("fault", "etype", "calls"),
    [
        ("500", "judge_server_error", 3),
        ("429", "judge_rate_limited", 3),
        ("garbage", "judge_unparseable", 3),
        ("400", "judge_bad_request", 1),  # other 4xx: never retried
    ],
)
def test_failed_criterion_gives_null_reward_with_typed_error(
    grader: httpx.Client, judge_script: JudgeScript, fault: str, etype: str, calls: int
) -> None:
    rubric = [*RUBRIC, {"criterion": f"Mentions troponin [fault={fault}]", "points": 2}]
    body = {"scheme": "hybrid", "judge": {"mode": "verdict"}, "on_judge_error": "null"}
    res = grade(grader, [item(rubric)], **body).json()["results"][0]
    assert res["reward"] is None and res["reward_std"] is None
    assert res["error"]["type"] == etype
    assert res["criteria"][4]["error"]["type"] == etype
    assert res["criteria"][0]["met"] is True  # the others were still judged
    # bounded: 3 attempts for 429/5xx, 1 + 2 re-asks for unparseable output, 1 call for other 4xx
    assert judge_script.calls_by_fault[fault] == calls


def test_timeout_is_typed_and_bounded(judge_url: str, judge_script: JudgeScript) -> None:
    judge_script.slow_s = 2.0
    settings = grader_settings(judge_url, judge_timeout_s=0.2, judge_max_attempts=2)
    rubric = [*RUBRIC, {"criterion": "Mentions troponin [fault=slow]", "points": 2}]
    with serve(create_app(settings)) as url:
        res = httpx.post(url + "/v1/grade", json={"items": [item(rubric)]}, timeout=30).json()["results"][0]
    assert res["reward"] is None and res["error"]["type"] == "judge_timeout"
    assert judge_script.calls_by_fault["slow"] == 2


def test_unparseable_once_recovers_by_reasking(grader: httpx.Client, judge_script: JudgeScript) -> None:
    rubric = [{"criterion": "Advises rest [p=1] [fault=garbage-once]", "points": 1}]
    res = grade(grader, [item(rubric)], scheme="healthbench", judge={"mode": "verdict"}).json()["results"][0]
    assert res["reward"] == 1.0 and res["usage"]["judge_calls"] == 2


def test_transient_503s_are_retried(grader: httpx.Client, judge_script: JudgeScript) -> None:
    judge_script.fail_next = [503, 503]
    res = grade(grader, [item(RUBRIC[:1])], scheme="healthbench").json()["results"][0]
    assert res["reward"] == 1.0 and res["usage"]["judge_calls"] == 3


def test_skip_policy_scores_over_judged_criteria_and_says_so(grader: httpx.Client) -> None:
    rubric = [*RUBRIC, {"criterion": "Mentions troponin [fault=500]", "points": 2}]
    res = grade(grader, [item(rubric)], scheme="healthbench", on_judge_error="skip").json()["results"][0]
    assert res["reward"] == pytest.approx(EXPECTED["healthbench"])
    assert res["skipped_criteria"] == 1 and res["criteria"][4]["error"]["type"] == "judge_server_error"


def test_no_logprobs_falls_back_to_hard_verdict(grader: httpx.Client, judge_script: JudgeScript) -> None:
    judge_script.logprobs = False
    res = grade(grader, [item()], scheme="healthbench", judge={"mode": "logprob"}).json()["results"][0]
    assert res["reward"] == pytest.approx(EXPECTED["healthbench"]) and res["reward_std"] == 0.0
    assert "no logprobs" in res["criteria"][0]["explanation"]


def test_judge_down_gives_null_rewards_and_readyz_503() -> None:
    from tests.servers import free_port

    settings = grader_settings(f"http://127.0.0.1:{free_port()}/v1", judge_max_attempts=2)
    with serve(create_app(settings)) as url:
        res = httpx.post(url + "/v1/grade", json={"items": [item()]}, timeout=30).json()["results"][0]
        assert res["reward"] is None and res["error"]["type"] == "judge_connection_error"
        assert httpx.get(url + "/readyz").status_code == 503


def test_global_concurrency_cap(judge_url: str, judge_script: JudgeScript) -> None:
    judge_script.latency_s = 0.05
    rubric = [{"criterion": f"Mentions item{i} [p=1]", "points": 1} for i in range(10)]
    with serve(create_app(grader_settings(judge_url, judge_concurrency=4))) as url:
        body = {"items": [item(rubric, id=str(k), response=f"r{k}") for k in range(4)]}
        r = httpx.post(url + "/v1/grade", json=body, timeout=60)
    assert r.status_code == 200 and judge_script.calls == 40
    assert judge_script.max_in_flight == 4


# ---------------------------------------------------------------- bad input: 4xx naming the field


def _loc(r: httpx.Response) -> list:
    return r.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"items": [item(rubric=[])]}, 422, ["body", "items", 0, "rubric"]),
        (
            {"items": [item(rubric=[{"criterion": "x", "points": 1e308}])]},
            422,
            ["body", "items", 0, "rubric", 0, "points"],
        ),
        ({"items": [item()], "scheme": "magic"}, 422, ["body", "scheme"]),
        ({"items": [item()], "judge": {"mode": "telepathy"}}, 422, ["body", "judge", "mode"]),
        ({"items": [item()], "scheme_params": {"bonnus": 1}}, 422, ["body", "scheme_params", "bonnus"]),
        ({"items": [item(rubric=[{"criterion": "x", "points": -1}])]}, 422, ["body", "items", 0, "rubric"]),
        ({"items": []}, 422, ["body", "items"]),
        ({"items": [{"prompt": "p", "rubric": RUBRIC}]}, 422, ["body", "items", 0, "response"]),
        ({"items": [item(prompt=[])]}, 422, ["body", "items", 0, "prompt"]),
    ],
)
def test_bad_input_is_4xx_naming_the_field(grader: httpx.Client, body: dict, status: int, loc: list) -> None:
    r = grader.post("/v1/grade", json=body)
    assert r.status_code == status, r.text
    assert _loc(r)[: len(loc)] == loc


def test_nan_points_and_malformed_json_are_422(grader: httpx.Client) -> None:
    raw = '{"items": [{"prompt": "p", "response": "r", "rubric": [{"criterion": "x", "points": NaN}]}]}'
    r = grader.post("/v1/grade", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "points" in _loc(r)
    r = grader.post("/v1/grade", content="{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_limits_are_413_naming_the_field(judge_url: str) -> None:
    settings = grader_settings(judge_url, max_items=2, max_criteria=3, max_text_chars=100, max_body_bytes=4096)
    with serve(create_app(settings)) as url, httpx.Client(base_url=url) as c:
        r = c.post("/v1/grade", json={"items": [item()] * 3})
        assert r.status_code == 413 and _loc(r) == ["body", "items"]
        r = c.post("/v1/grade", json={"items": [item()]})
        assert r.status_code == 413 and _loc(r) == ["body", "items", 0, "rubric"]
        r = c.post("/v1/grade", json={"items": [item(RUBRIC[:2], response="x" * 200)]})
        assert r.status_code == 413 and _loc(r) == ["body", "items", 0, "response"]
        r = c.post("/v1/grade", json={"items": [item(RUBRIC[:2], response="x" * 5000)]})
        assert r.status_code == 413 and _loc(r) == ["body"]


def test_bearer_token_when_configured(judge_url: str) -> None:
    settings = grader_settings(judge_url, api_key="s3cret")
    with serve(create_app(settings)) as url:
        body = {"items": [item(RUBRIC[:1])]}
        assert httpx.post(url + "/v1/grade", json=body).status_code == 401
        ok = httpx.post(url + "/v1/grade", json=body, headers={"Authorization": "Bearer s3cret"}, timeout=30)
        assert ok.status_code == 200
        assert httpx.get(url + "/healthz").status_code == 200


# ---------------------------------------------------------------- other endpoints


def test_schemes_endpoint_lists_defaults(grader: httpx.Client) -> None:
    body = grader.get("/v1/schemes").json()
    assert set(body) == set(EXPECTED)
    assert body["hybrid"]["defaults"] == {"coverage_weight": 15.0, "pitfall_weight": 4.5, "bonus": 5.0}
    assert body["rar_explicit"]["defaults"]["pitfall"] == 0.9
    assert body["complexity"]["range"] == [0.0, 25.0]


def test_health_ready_and_openapi(grader: httpx.Client) -> None:
    assert grader.get("/healthz").json() == {"status": "ok"}
    assert grader.get("/readyz").json()["status"] == "ready"
    spec = grader.get("/openapi.json").json()
    assert {"/v1/grade", "/v1/rubrics/validate", "/v1/schemes"} <= set(spec["paths"])


def test_openapi_document_says_what_is_accepted(grader: httpx.Client) -> None:
    """The document itself, checked as JSON Schema against bodies the grader accepts and rejects."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # ships with schemathesis (the dev extra)
    spec = grader.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/GradeRequest", "components": spec["components"]}
    validator = jsonschema_rs.Draft202012Validator(schema)
    accepted = [
        {"items": [item()]},
        {"items": [item()], "scheme": "healthbench", "extra_schemes": ["hybrid", {"scheme": "complexity"}]},
        {"items": [item()], "extra_schemes": [{"scheme": "rar_explicit", "scheme_params": {"weights": "points"}}]},
    ]
    rejected = [
        {"items": [item()], "scheme": "rar_implicit", "extra_schemes": ["hybrid"]},
        {"items": [item()], "extra_schemes": [{"scheme": "complexity", "scheme_params": {"exponent": -1}}]},
        {"items": [item()], "extra_schemes": ["rar_implicit"]},
        {
            "items": [item(rubric=[{"criterion": "x", "points": -1}])],
            "scheme": "rar_explicit",
            "extra_schemes": ["hybrid"],
        },
    ]
    for body in accepted:
        assert validator.is_valid(body), body
        assert grade(grader, **body).status_code == 200
    for body in rejected:
        assert not validator.is_valid(body), body
        assert grade(grader, **body).status_code == 422


@pytest.mark.parametrize(("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_docs_pages_work_offline(grader: httpx.Client, page: str, asset: str) -> None:
    """Every asset the page loads is served by the grader itself: nothing from a CDN."""
    html = grader.get(page).text
    assert f"/docs/static/{asset}" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    js = grader.get(f"/docs/static/{asset}")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_validate_rubric_endpoint(grader: httpx.Client) -> None:
    r = grader.post("/v1/rubrics/validate", json={"rubric": RUBRIC}).json()
    assert r["valid"] and r["positive_points"] == 9 and r["negative_points"] == -2
    assert r["categories"] == {"essential": 1, "important": 1, "pitfall": 1, "optional": 1}
    avoid = [{"criterion": "Pitfall Criteria: Avoids giving a diagnosis", "points": -1}, RUBRIC[0]]
    assert any("avoidance" in w for w in grader.post("/v1/rubrics/validate", json={"rubric": avoid}).json()["warnings"])
    bad = grader.post("/v1/rubrics/validate", json={"rubric": [RUBRIC[0], {"criterion": "x", "points": 5000}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "rubric", 1, "points"]
    assert grader.post("/v1/rubrics/validate", json={}).status_code == 422
    # a rubric of zero-point criteria is valid input but scores nothing: a warning, not an error
    zero = grader.post("/v1/rubrics/validate", json={"rubric": [{"criterion": "x", "points": 0}]}).json()
    assert zero["valid"] is False and "no criterion has positive points" in zero["warnings"][0]


def test_validate_real_records(grader: httpx.Client) -> None:
    """Every pitfall of the real records comes back with its polarity, agreeing with the hand labels."""
    import json as _json

    from tests.conftest import REPO
    from trainer.polarity._labels import record_id

    labels = {
        row["id"]: row["polarity"]
        for row in map(_json.loads, (REPO / "trainer/polarity/labels/shared_labels.jsonl").read_text().splitlines())
    }
    agree = scored = 0
    for rec in shared_records("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl"):
        r = grader.post("/v1/rubrics/validate", json={"record": rec})
        assert r.status_code == 200 and r.json()["format"] == "rar_medicine"
        assert len(r.json()["criteria"]) == rec["rubric_count"]
        pitfalls = r.json()["pitfalls"]
        assert [p["index"] for p in pitfalls] == [i for i, c in enumerate(rec["rubric"]) if c["weight"] < 0]
        for p in pitfalls:
            assert p["source"].startswith("rules:")
            label = labels[f"{record_id(rec['question'])}/{p['index']}"]
            if label != "ambiguous":
                scored += 1
                agree += (label == "avoid") == (p["polarity"] == "avoid")
            if p["polarity"] == "avoid":
                assert any(
                    f"criterion {p['index']} is a pitfall phrased as avoidance" in w for w in r.json()["warnings"]
                )
    assert scored == 140 and agree / scored >= 0.95


def test_custom_judge_template_is_used_and_reported(grader: httpx.Client, judge_url: str, tmp_path) -> None:
    """A reference-style template (simple-evals' layout) per request, and as the grader's default file."""
    import hashlib

    from tests.test_judge_prompts import REFERENCE_LIKE

    rubric = [
        {"criterion": "Mentions a doctor [contains=doctor]", "points": 5},
        {"criterion": "Mentions aspirin [contains=aspirin]", "points": 5},
    ]
    body = {"scheme": "healthbench", "judge": {"mode": "verdict", "custom_template": REFERENCE_LIKE}}
    r = grade(grader, [item(rubric, response="See a doctor today.")], **body)
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["judge_template"] == "custom:" + hashlib.sha256(REFERENCE_LIKE.encode()).hexdigest()
    assert [c["met"] for c in res["results"][0]["criteria"]] == [True, False]
    assert res["results"][0]["reward"] == 0.5
    ours = grade(grader, [item(rubric, response="See a doctor today.")], scheme="healthbench").json()
    assert ours["judge_template"] == "ours"

    r = grade(
        grader, [item(rubric)], scheme="healthbench", judge={"mode": "logprob", "custom_template": REFERENCE_LIKE}
    )
    assert r.status_code == 422 and _loc(r) == ["body", "judge", "custom_template"]

    path = tmp_path / "grader_prompt.txt"
    path.write_text(REFERENCE_LIKE)
    with serve(create_app(grader_settings(judge_url, judge_template_file=str(path)))) as url:
        res = httpx.post(
            f"{url}/v1/grade",
            json={"items": [item(rubric, response="aspirin")], "scheme": "healthbench", "judge": {"mode": "verdict"}},
            timeout=30,
        ).json()
    assert res["judge_template"].startswith("custom:") and res["results"][0]["reward"] == 0.5
