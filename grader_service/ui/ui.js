"use strict";
// The rubric playground: plain JS against the grader's own API (/v1/schemes, /v1/rubrics/validate, /v1/grade).
(function () {
  const $ = (id) => document.getElementById(id);
  const EXAMPLES = {
    "Chest pain (RaR-Medicine rubric)": {
      prompt: "I'm 58 and have had crushing chest pain spreading to my left arm for 20 minutes. What should I do?",
      response: "Call emergency services now. Chew an aspirin (300 mg) unless you are allergic, sit down and " +
        "stay with someone until help arrives. Do not drive yourself to hospital.",
      rubric: [
        {title: "Emergency call", description: "Essential Criteria: Tells the user to call emergency services immediately.", weight: 5},
        {title: "Aspirin", description: "Important Criteria: Advises chewing aspirin unless allergic.", weight: 4},
        {title: "No driving", description: "Optional Criteria: Advises against driving themselves.", weight: 2},
        {title: "Wait", description: "Pitfall Criteria: Suggests waiting to see whether the pain passes.", weight: -2},
      ],
    },
    "Palpitations (HealthBench rubric)": {
      prompt: [{role: "user", content: "My heart sometimes races after coffee. Should I worry?"}],
      response: "Occasional palpitations after caffeine are common. Cut down on coffee; see a doctor if they " +
        "last long, or come with fainting, chest pain or breathlessness.",
      rubric: [
        {criterion: "Names red-flag symptoms that need urgent care (fainting, chest pain, breathlessness).", points: 6, tags: ["axis:completeness"]},
        {criterion: "Suggests reducing caffeine.", points: 3, tags: ["axis:accuracy"]},
        {criterion: "Diagnoses atrial fibrillation without an ECG.", points: -5, tags: ["axis:accuracy"]},
      ],
    },
  };
  let checked = null;  // the rubric as the grader read it: {criteria: [...]} or null
  let timer = null;

  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) =>
    ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
  const headers = () => {
    const h = {"content-type": "application/json"};
    if ($("token").value) h.authorization = "Bearer " + $("token").value;
    return h;
  };
  const detail = (body) => (body && Array.isArray(body.detail)) ?
    body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ") :
    (body && body.detail) || JSON.stringify(body);

  function load(name) {
    const ex = EXAMPLES[name];
    $("prompt").value = typeof ex.prompt === "string" ? ex.prompt : JSON.stringify(ex.prompt, null, 1);
    $("response").value = ex.response;
    $("rubric").value = JSON.stringify(ex.rubric, null, 1);
    check();
  }

  async function check() {
    const box = $("rubric-check");
    let rubric;
    try {
      rubric = JSON.parse($("rubric").value);
    } catch (e) {
      checked = null;
      box.className = "check bad";
      box.textContent = "not JSON yet: " + e.message;
      return;
    }
    const r = await fetch("/v1/rubrics/validate", {method: "POST", headers: headers(), body: JSON.stringify(rubric)});
    const body = await r.json();
    if (!r.ok) {
      checked = null;
      box.className = "check bad";
      box.textContent = `invalid: ${detail(body)}`;
      return;
    }
    checked = body;
    const cats = Object.entries(body.categories).map(([k, v]) => `${v} ${k}`).join(", ");
    box.className = "check ok";
    box.textContent = `valid rubric (format ${body.format}): ${body.criteria.length} criteria (${cats}), ` +
      `+${body.positive_points} / ${body.negative_points} points` +
      (body.warnings.length ? ` — warnings: ${body.warnings.join("; ")}` : "");
  }

  function prompt() {
    const text = $("prompt").value.trim();
    if (text.startsWith("[")) {
      try { return JSON.parse(text); } catch (e) { /* plain text after all */ }
    }
    return text;
  }

  function verdict(c) {
    if (c.met === true) return '<span class="v-met">met</span>';
    if (c.met === false) return '<span class="v-not">not met</span>';
    return '<span class="v-none">—</span>';
  }

  function render(resp) {
    const r = resp.results[0];
    const rows = r.criteria.map((c, i) => {
      const p = c.p_met == null ? "" :
        `<span class="bar"><span style="width:${Math.round(100 * c.p_met)}%"></span></span>${c.p_met.toFixed(2)}`;
      return `<tr data-i="${i}" data-met="${c.met}" data-p="${c.p_met == null ? "" : c.p_met}">` +
        `<td><span class="cat cat-${esc(c.category || "none")}">${esc(c.category || "—")}</span></td>` +
        `<td>${esc(c.points)}</td><td>${esc(c.criterion)}` +
        (c.explanation ? `<div class="muted">${esc(c.explanation)}</div>` : "") +
        (c.error ? `<div class="err">${esc(c.error.type)}: ${esc(c.error.message)}</div>` : "") +
        `</td><td class="verdict">${verdict(c)}</td><td>${p}</td></tr>`;
    }).join("");
    const reward = r.reward == null ? `<span class="reward bad" id="reward" data-reward="">reward null</span>` :
      `<span class="reward" id="reward" data-reward="${r.reward}">reward ${r.reward.toFixed(3)}</span>` +
      (r.reward_std != null ? ` <span class="muted">± ${r.reward_std.toFixed(3)}</span>` : "");
    $("result").innerHTML = `${reward} <span class="muted">${esc(resp.scheme)}, ${esc(resp.model)} ` +
      `(${esc(resp.mode)}), ${r.usage.judge_calls} judge calls, ${r.usage.cache_hits} cached</span>` +
      (r.error ? `<div class="err">${esc(r.error.type)}: ${esc(r.error.message)}</div>` : "") +
      `<table class="crit"><thead><tr><th>category</th><th>points</th><th>criterion</th><th>verdict</th>` +
      `<th>P(met)</th></tr></thead><tbody>${rows}</tbody></table>`;
    $("result").dataset.done = "1";
  }

  async function grade() {
    if (!checked) {
      $("result").innerHTML = '<span class="bad">fix the rubric first</span>';
      return;
    }
    $("result").dataset.done = "";
    $("result").textContent = "grading…";
    const body = {
      items: [{id: "playground", prompt: prompt(), response: $("response").value, rubric: checked.criteria}],
      scheme: $("scheme").value,
    };
    if ($("mode").value) body.judge = {mode: $("mode").value};
    const r = await fetch("/v1/grade", {method: "POST", headers: headers(), body: JSON.stringify(body)});
    const out = await r.json();
    if (!r.ok) {
      $("result").innerHTML = `<span class="bad">HTTP ${r.status}: ${esc(detail(out))}</span>`;
      $("result").dataset.done = "1";
      return;
    }
    render(out);
  }

  async function init() {
    for (const name of Object.keys(EXAMPLES)) $("example").add(new Option(name, name));
    const schemes = await (await fetch("/v1/schemes")).json();
    for (const name of Object.keys(schemes)) $("scheme").add(new Option(name, name, name === "hybrid", name === "hybrid"));
    $("example").addEventListener("change", () => load($("example").value));
    $("rubric").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 300); });
    $("token").addEventListener("change", check);
    $("grade").addEventListener("click", grade);
    load(Object.keys(EXAMPLES)[0]);
    document.body.dataset.ready = "1";
  }
  init();
})();
