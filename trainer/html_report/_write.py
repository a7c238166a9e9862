"""Write the report: the page, its style and script, the examples as embedded JSON, plots as data URIs.

One file that opens offline in any browser. Only one page of examples (50) is in the DOM at a time, so a
run of thousands opens as fast as a small one; the JSON is parsed once.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent


def _summary_rows(summary: Mapping[str, Any]) -> str:
    rows = []
    for key, value in summary.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        rows.append(f"<tr><td><b>{html.escape(str(key))}</b></td><td>{html.escape(text)}</td></tr>")
    return "".join(rows)


def _plots(paths: Sequence[Path]) -> str:
    imgs = []
    for p in paths:
        if Path(p).exists():
            b64 = base64.b64encode(Path(p).read_bytes()).decode()
            imgs.append(f'<img alt="{html.escape(Path(p).stem)}" src="data:image/png;base64,{b64}">')
    return f'<div class="plots">{"".join(imgs)}</div>' if imgs else ""


_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(value: Any) -> str:
    """JSON to embed in a <script> block: no string can end the block (`</script>`), open a comment
    (`<!--`) or a nested script, or break a line in older parsers; JSON.parse gives back the same value."""
    return json.dumps(value, default=str, ensure_ascii=False).translate(_SCRIPT_SAFE)


def write_report(
    path: str | Path,
    title: str,
    examples: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any] | None = None,
    plots: Sequence[Path] = (),
) -> Path:
    """The report at `path`: `examples` as built by `from_graded_rows` / `from_dump_rows`."""
    data = script_json({"examples": list(examples)})
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title><style>{(_HERE / "report.css").read_text()}</style></head>
<body><header><h1>{html.escape(title)}</h1>
<table class="summary">{_summary_rows(summary or {})}</table>{_plots(plots)}</header>
<main><div class="controls">
<input id="q" type="search" placeholder="search prompts, responses, criteria">
<label><input id="f-failed" type="checkbox"> failed criteria</label>
<label><input id="f-null" type="checkbox"> null rewards</label>
<label><input id="f-pitfall" type="checkbox"> pitfalls triggered</label>
<label>sort <select id="sort"><option value="order">as graded</option>
<option value="asc">lowest reward first</option><option value="desc">highest reward first</option></select></label>
<span id="count" class="muted"></span></div>
<div id="examples"></div>
<div class="pager"><button id="prev">previous</button><button id="next">next</button>
<span id="page" class="muted"></span></div>
</main>
<script type="application/json" id="report-data">{data}</script>
<script>{(_HERE / "report.js").read_text()}</script>
</body></html>
"""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
