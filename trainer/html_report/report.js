"use strict";
// Renders the report's examples from the JSON embedded in the page: filters, sorting, search, pages.
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const examples = data.examples;
  const PAGE = 50;
  const $ = (id) => document.getElementById(id);
  let page = 0;
  let shown = examples;

  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) =>
    ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
  const num = (x, d) => (x == null ? "null" : Number(x).toFixed(d));
  const failed = (e) => e.criteria.some((c) => c.points > 0 && c.met === false);
  // a pitfall is triggered when its error happened: met, or NOT met for one phrased as avoidance
  const triggered = (c) => c.points < 0 && c.met != null && c.met === (c.penalised_when !== "not_met");
  const pitfall = (e) => e.criteria.some(triggered);
  const hay = (e) => e._hay || (e._hay = [e.id, e.response, ...(e.conversation || []).map((m) => m.content),
    ...e.criteria.map((c) => c.criterion), ...(e.tags || [])].join("\n").toLowerCase());

  function apply() {
    const q = $("q").value.trim().toLowerCase();
    shown = examples.filter((e) =>
      (!$("f-failed").checked || failed(e)) &&
      (!$("f-null").checked || e.reward == null) &&
      (!$("f-pitfall").checked || pitfall(e)) &&
      (!q || hay(e).includes(q)));
    const sort = $("sort").value;
    if (sort !== "order") {
      const key = (e) => (e.reward == null ? -Infinity : e.reward);
      shown = shown.slice().sort((a, b) => (sort === "asc" ? key(a) - key(b) : key(b) - key(a)));
    }
    page = 0;
    render();
  }

  function verdict(c) {
    if (c.met === true) return '<span class="v-met">met</span>';
    if (c.met === false) return '<span class="v-not">not met</span>';
    return '<span class="v-none">—</span>';
  }

  function criterionRow(c, i) {
    const p = c.p_met == null ? "" :
      `<span class="bar"><span style="width:${Math.round(100 * c.p_met)}%"></span></span>${num(c.p_met, 2)}`;
    const cls = c.points < 0 && c.met === true ? ' class="pit-met"' : "";
    return `<tr${cls} data-i="${i}" data-met="${c.met}" data-p="${c.p_met == null ? "" : c.p_met}">` +
      `<td><span class="cat cat-${esc(c.category || "none")}">${esc(c.category || "—")}</span></td>` +
      `<td>${esc(c.points)}</td><td>${esc(c.criterion)}` +
      (c.explanation ? `<div class="muted">${esc(c.explanation)}</div>` : "") +
      (c.error ? `<div class="err">${esc(typeof c.error === "string" ? c.error : c.error.type + ": " + c.error.message)}</div>` : "") +
      `</td><td class="verdict">${verdict(c)}</td><td>${p}</td></tr>`;
  }

  function card(e) {
    const conv = (e.conversation || []).map((m) =>
      `<div class="turn"><span class="role">${esc(m.role)}:</span> ${esc(m.content)}</div>`).join("");
    const reward = e.reward == null ? '<span class="reward null">reward null</span>' :
      `<span class="reward">reward ${num(e.reward, 3)}</span>` +
      (e.reward_std != null ? ` <span class="muted">± ${num(e.reward_std, 3)}</span>` : "");
    return `<article class="ex" data-id="${esc(e.id)}"><h2><span>${esc(e.id)}</span>${reward}` +
      `<span class="muted">${esc(e.scheme || "")}</span>` +
      (e.tags || []).map((t) => `<span class="tag">${esc(t)}</span>`).join("") + `</h2>` +
      (e.error ? `<div class="err">${esc(e.error)}</div>` : "") +
      `<details${conv.length < 600 ? " open" : ""}><summary>conversation</summary>${conv}</details>` +
      `<div class="muted">response</div><pre>${esc(e.response)}</pre>` +
      `<table class="crit"><thead><tr><th>category</th><th>points</th><th>criterion</th><th>verdict</th>` +
      `<th>P(met)</th></tr></thead><tbody>${e.criteria.map(criterionRow).join("")}</tbody></table></article>`;
  }

  function render() {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    $("examples").innerHTML = shown.slice(page * PAGE, (page + 1) * PAGE).map(card).join("");
    $("count").textContent = `${shown.length} of ${examples.length} examples`;
    $("page").textContent = `page ${page + 1} of ${pages}`;
    $("prev").disabled = page === 0;
    $("next").disabled = page >= pages - 1;
  }

  for (const id of ["f-failed", "f-null", "f-pitfall", "sort"]) $(id).addEventListener("change", apply);
  $("q").addEventListener("input", apply);
  $("prev").addEventListener("click", () => { page -= 1; render(); window.scrollTo(0, 0); });
  $("next").addEventListener("click", () => { page += 1; render(); window.scrollTo(0, 0); });
  apply();
  document.body.dataset.ready = "1";
})();
