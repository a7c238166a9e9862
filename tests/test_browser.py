"""The HTML report and the rubric playground in a real browser: Debian's headless Chromium, driven by selenium.

The report is built from real HealthBench records of ../shared (skipped when absent), each answered by its
ideal completion and graded through the grader (scripted judge: exact verdicts, one rubric refused to make
a null), then checked in the browser against its own JSON: filters, sorting, search, pages and a criterion's
rendered verdict. The playground grades an example against the real local judge (llama.cpp with SmolLM2;
skipped without `make install-judge`) and shows what `/v1/grade` answers. Screenshots go to
$RUBRIC_SCREENSHOTS_DIR when set (the README's come from there), else to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from grader_service import create_app
from shared import GradeItem, GradeResponse, prompt_from_record, rubric_from_record
from tests.conftest import grader_settings, shared_records
from tests.servers import serve
from trainer.html_report import from_grade_response, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("RUBRIC_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no headless browser (apt-get install chromium chromium-driver; .ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1400",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, script: str, timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def _graded_examples(grader_url: str, n: int = 60) -> list[dict[str, Any]]:
    records = [r for r in shared_records("healthbench", "hard_sample50.jsonl") if r.get("ideal_completions_data")]
    items = []
    for i, rec in enumerate((records * 3)[:n]):
        rubric = [c.model_dump(exclude_none=True) for c in rubric_from_record(rec)][:8]
        if i == 3:
            rubric.append({"criterion": "Mentions troponin [fault=400]", "points": 2})  # a typed null
        if i == 5:  # an avoid-phrased pitfall not met: triggered under pitfall_polarity=auto
            rubric.append({"criterion": "Pitfall Criteria: Does not mention unrelated nerves [p=0]", "points": -2})
        response = rec["ideal_completions_data"]["ideal_completion"]
        if i % 2:  # every other one answered badly, so verdicts differ
            response = "I cannot help with that. " + response[: len(response) // 4]
        prompt = [m.model_dump() for m in prompt_from_record(rec)]
        items.append({"id": f"ex{i:03d}", "prompt": prompt, "response": response, "rubric": rubric})
    body = httpx.post(f"{grader_url}/v1/grade", json={"items": items, "scheme": "hybrid"}, timeout=120).json()
    return from_grade_response([GradeItem(**it) for it in items], GradeResponse.model_validate(body))


def test_report_filters_sorts_searches_and_shows_the_verdicts(browser: Any, grader_url: str, tmp_path: Path) -> None:
    examples = _graded_examples(grader_url)
    path = write_report(tmp_path / "report.html", "Browser test", examples, {"examples": len(examples)})
    browser.get(path.as_uri())
    _wait(browser, "return document.body.dataset.ready === '1'")
    count = lambda: browser.find_element("id", "count").text  # noqa: E731
    cards = lambda: browser.find_elements("css selector", "article.ex")  # noqa: E731
    assert count() == f"{len(examples)} of {len(examples)} examples" and len(cards()) == 50  # one page of 50

    # a criterion's rendered verdict and P(met) against the JSON
    first = examples[0]
    rows = cards()[0].find_elements("css selector", "table.crit tbody tr")
    assert len(rows) == len(first["criteria"])
    for row, c in zip(rows, first["criteria"], strict=True):
        want = {True: "met", False: "not met", None: "—"}[c["met"]]
        assert row.find_element("css selector", "td.verdict").text == want
        if c["p_met"] is None:
            assert row.get_attribute("data-p") == ""
        else:
            assert float(row.get_attribute("data-p")) == pytest.approx(c["p_met"])
            assert f"{c['p_met']:.2f}" in row.text

    # filters
    browser.find_element("id", "f-null").click()
    nulls = [e for e in examples if e["reward"] is None]
    assert nulls and count() == f"{len(nulls)} of {len(examples)} examples"
    assert all("reward null" in c.text for c in cards())
    browser.find_element("id", "f-null").click()
    browser.find_element("id", "f-failed").click()
    failed = [e for e in examples if any(c["points"] > 0 and c["met"] is False for c in e["criteria"])]
    assert count() == f"{len(failed)} of {len(examples)} examples"
    browser.find_element("id", "f-failed").click()
    browser.find_element("id", "f-pitfall").click()

    def triggered(c: dict) -> bool:  # met, or not met for a pitfall phrased as avoidance
        return c["points"] < 0 and c["met"] is not None and c["met"] is (c["penalised_when"] != "not_met")

    pitfalls = [e for e in examples if any(triggered(c) for c in e["criteria"])]
    assert examples[5]["criteria"][-1]["penalised_when"] == "not_met" and examples[5] in pitfalls
    assert count() == f"{len(pitfalls)} of {len(examples)} examples"
    browser.find_element("id", "f-pitfall").click()

    # sorting: lowest reward first
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", "sort")).select_by_value("asc")
    scored = sorted((e for e in examples if e["reward"] is not None), key=lambda e: e["reward"])
    ids = [c.get_attribute("data-id") for c in cards()]
    assert ids[: len(nulls)] == [e["id"] for e in nulls]  # nulls first (lowest), then the lowest rewards
    assert ids[len(nulls)] == scored[0]["id"]
    browser.save_screenshot(str(_shots(tmp_path) / "report.png"))

    # search, and the second page
    Select(browser.find_element("id", "sort")).select_by_value("order")
    browser.find_element("id", "q").send_keys("cannot help")
    assert count() == f"{len(examples) // 2} of {len(examples)} examples"
    browser.find_element("id", "q").clear()
    browser.execute_script("document.getElementById('q').dispatchEvent(new Event('input'))")
    browser.find_element("id", "next").click()
    assert browser.find_element("id", "page").text == "page 2 of 2" and len(cards()) == len(examples) - 50


def test_report_with_5000_examples_opens_and_pages(browser: Any, tmp_path: Path) -> None:
    crit = [{"criterion": f"Criterion {k}", "points": 5 - k, "category": "essential", "met": k % 2 == 0,
             "p_met": 0.1 * k, "explanation": "because", "error": None} for k in range(8)]  # fmt: skip
    examples = [
        {"id": f"e{i}", "conversation": [{"role": "user", "content": f"question {i}"}], "response": f"answer {i}",
         "scheme": "hybrid", "reward": (i % 97) / 10, "reward_std": 0.1, "error": None, "tags": [], "criteria": crit}
        for i in range(5000)
    ]  # fmt: skip
    path = write_report(tmp_path / "big.html", "5,000 examples", examples)
    browser.get(path.as_uri())
    _wait(browser, "return document.body.dataset.ready === '1'")
    assert browser.find_element("id", "count").text == "5000 of 5000 examples"
    assert browser.find_element("id", "page").text == "page 1 of 100"
    browser.find_element("id", "q").send_keys("answer 4999")
    assert browser.find_element("id", "count").text == "1 of 5000 examples"


@pytest.fixture
def local_judge_grader() -> Iterator[str]:
    try:
        from scripts.local_stack import SMOLLM2_GRADER_ENV, judge, smollm2_gguf

        smollm2_gguf()
    except (ImportError, SystemExit) as e:
        pytest.skip(f"no local judge: {e}")
    with judge("llama") as (url, model):
        env = {k.removeprefix("GRADER_").lower(): v for k, v in SMOLLM2_GRADER_ENV.items()}
        settings = grader_settings(url, judge_model=model, **env)
        with serve(create_app(settings)) as grader:
            yield grader


def test_playground_checks_a_rubric_while_typing_and_grades_with_the_local_judge(
    browser: Any, local_judge_grader: str, tmp_path: Path
) -> None:
    browser.get(local_judge_grader + "/ui/")
    _wait(browser, "return document.body.dataset.ready === '1'")
    check = lambda: browser.find_element("id", "rubric-check").text  # noqa: E731
    _wait(browser, "return document.getElementById('rubric-check').textContent.startsWith('valid')")
    assert "4 criteria (1 essential, 1 important, 1 optional, 1 pitfall), +11 / -2 points" in check()

    rubric = browser.find_element("id", "rubric")
    saved = rubric.get_attribute("value")
    browser.execute_script('arguments[0].value = \'[{"criterion": "x", "points": 2000}]\'', rubric)
    browser.execute_script("arguments[0].dispatchEvent(new Event('input'))", rubric)
    _wait(browser, "return document.getElementById('rubric-check').textContent.startsWith('invalid')")
    assert "points" in check()  # the error names the field
    restore = "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))"
    browser.execute_script(restore, rubric, saved)
    _wait(browser, "return document.getElementById('rubric-check').textContent.startsWith('valid')")

    browser.find_element("id", "grade").click()
    _wait(browser, "return document.getElementById('result').dataset.done === '1'", timeout=300)
    shown = browser.find_elements("css selector", "#result table.crit tbody tr")
    # the same item straight from the API (now cached): the page shows what the grader answers
    prompt = browser.find_element("id", "prompt").get_attribute("value")
    response = browser.find_element("id", "response").get_attribute("value")
    criteria = httpx.post(f"{local_judge_grader}/v1/rubrics/validate", json={"rubric": json.loads(saved)}).json()
    api = httpx.post(
        f"{local_judge_grader}/v1/grade",
        json={"items": [{"prompt": prompt, "response": response, "rubric": criteria["criteria"]}], "scheme": "hybrid"},
        timeout=300,
    ).json()["results"][0]
    assert len(shown) == len(api["criteria"]) == 4
    for row, c in zip(shown, api["criteria"], strict=True):
        want = {True: "met", False: "not met", None: "—"}[c["met"]]
        assert row.find_element("css selector", "td.verdict").text == want
        if c["p_met"] is not None:
            assert f"{c['p_met']:.2f}" in row.text
    reward = browser.find_element("id", "reward").get_attribute("data-reward")
    assert (reward == "" and api["reward"] is None) or float(reward) == pytest.approx(api["reward"])
    browser.save_screenshot(str(_shots(tmp_path) / "playground.png"))


# ---------------------------------------------------------------- text no string can break

HOSTILE = [
    "a <!-- <script> b",  # the string that took the whole report down: the embedded JSON opened a comment
    "</script><script>window.__pwned = 1</script>",
    "<!--<script>window.__pwned = 2//",
    '<img src=x onerror="window.__pwned = 3">',
    '<a href="javascript:window.__pwned = 4">click me</a>',
    "<svg onload=window.__pwned=5></svg>",
    '"; window.__pwned = 6; "',
    "line\u2028separator\u2029paragraph & <b>bold</b>",
    "]]></script><iframe src=javascript:window.__pwned=7>",
]
BIG = "A long answer. " * (1_000_000 // 15)  # 1 MB of text
EXPLANATION = "The answer says <img src=x onerror=window.__pwned=8> and </script><!--<script>"
INJECTED = "#examples img, #examples a, #examples svg, #examples iframe, #examples script"


@pytest.fixture
def hostile_grader(judge_script: Any, judge_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The grader (scripted judge whose every verdict explains itself with hostile text), behind a named key."""
    from grader_service.keys import add_key

    judge_script.explanation = EXPLANATION
    token = add_key(tmp_path / "keys.toml", "browser")
    settings = grader_settings(
        judge_url, api_keys_file=str(tmp_path / "keys.toml"), max_text_chars=2_000_000, max_explanation_chars=2000
    )
    with serve(create_app(settings)) as url:
        yield url, token


def _hostile_items() -> list[dict[str, Any]]:
    rubric = [{"criterion": f"{h} [p={0.9 if k % 2 else 0.1}]", "points": 5 - k} for k, h in enumerate(HOSTILE)]
    return [
        {"id": f"h{i}", "prompt": [{"role": "user", "content": h}], "response": h, "rubric": rubric}
        for i, h in enumerate([*HOSTILE, BIG])
    ]


def _no_injection(browser: Any, where: str) -> None:
    assert browser.execute_script("return window.__pwned === undefined"), "an injected script ran"
    assert browser.find_elements("css selector", INJECTED.replace("#examples", where)) == []


def test_the_report_renders_every_hostile_example_and_runs_none_of_it(
    browser: Any, hostile_grader: tuple[str, str], tmp_path: Path
) -> None:
    url, token = hostile_grader
    items = _hostile_items()
    body = httpx.post(
        f"{url}/v1/grade", json={"items": items, "scheme": "hybrid", "judge": {"mode": "verdict"}},
        headers={"Authorization": f"Bearer {token}"}, timeout=120,
    )  # fmt: skip
    assert body.status_code == 200, body.text[:500]
    examples = from_grade_response([GradeItem(**it) for it in items], GradeResponse.model_validate(body.json()))
    path = write_report(tmp_path / "hostile.html", "<!-- <script> title </script>", examples, {"<!--": "</script>"})
    browser.get(path.as_uri())
    _wait(browser, "return document.body.dataset.ready === '1'")
    n = len(examples)
    assert browser.find_element("id", "count").text == f"{n} of {n} examples"
    shown = browser.execute_script(
        "return [...document.querySelectorAll('article.ex')].map((a) => ({id: a.dataset.id,"
        " response: a.querySelector('pre').textContent,"
        " turns: [...a.querySelectorAll('.turn')].map((t) => t.textContent),"
        " criteria: [...a.querySelectorAll('table.crit td:nth-child(3)')].map((td) => td.firstChild.textContent),"
        " explanations: [...a.querySelectorAll('table.crit td:nth-child(3) .muted')].map((d) => d.textContent)}))"
    )
    assert [s["id"] for s in shown] == [e["id"] for e in examples]
    for s, e in zip(shown, examples, strict=True):
        assert s["response"] == e["response"]  # the 1 MB one too
        assert s["turns"] == [f"{m['role']}: {m['content']}" for m in e["conversation"]]
        assert s["criteria"] == [c["criterion"] for c in e["criteria"]]
        assert s["explanations"] == [c["explanation"] for c in e["criteria"]] and EXPLANATION in s["explanations"]
    assert browser.title == "<!-- <script> title </script>"
    _no_injection(browser, "header")
    _no_injection(browser, "main")
    browser.find_element("id", "q").send_keys("a long answer.")  # search works over the 1 MB text
    assert browser.find_element("id", "count").text == f"1 of {n} examples"
    _no_injection(browser, "main")


def test_the_playground_renders_hostile_grades_and_runs_none_of_it(
    browser: Any, hostile_grader: tuple[str, str]
) -> None:
    from selenium.webdriver.support.ui import Select

    url, token = hostile_grader
    browser.get(url + "/ui/")
    _wait(browser, "return document.body.dataset.ready === '1'")
    browser.find_element("id", "token").send_keys(token)  # a named key, typed in as a user would
    Select(browser.find_element("id", "mode")).select_by_visible_text("verdict")
    rubric = json.dumps(_hostile_items()[0]["rubric"])
    fill = "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))"
    browser.execute_script(fill, browser.find_element("id", "rubric"), rubric)
    _wait(browser, "return document.getElementById('rubric-check').textContent.includes('9 criteria')")
    for response in [*HOSTILE, BIG]:
        browser.execute_script(fill, browser.find_element("id", "prompt"), response)
        browser.execute_script(fill, browser.find_element("id", "response"), response)
        browser.find_element("id", "grade").click()
        _wait(browser, "return document.getElementById('result').dataset.done === '1'", timeout=60)
        api = httpx.post(
            f"{url}/v1/grade",
            json={"items": [{"prompt": response, "response": response, "rubric": json.loads(rubric)}],
                  "judge": {"mode": "verdict"}},
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        ).json()["results"][0]  # fmt: skip
        rows = browser.execute_script(
            "return [...document.querySelectorAll('#result table.crit tbody tr td:nth-child(3)')].map((td) =>"
            " [td.firstChild.textContent, td.querySelector('.muted') && td.querySelector('.muted').textContent])"
        )
        assert rows == [[c["criterion"], c["explanation"]] for c in api["criteria"]]
        reward = browser.find_element("id", "reward").get_attribute("data-reward")
        assert float(reward) == pytest.approx(api["reward"])
        _no_injection(browser, "#result")
        _no_injection(browser, "#rubric-check")
