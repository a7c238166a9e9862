"""MkDocs hooks: the HTTP reference generated from the grader's own OpenAPI document at build time."""

from __future__ import annotations

import json
import os
from typing import Any

MARKER = "<!-- openapi -->"


def _schema() -> dict[str, Any]:
    os.environ.setdefault("GRADER_JUDGE_BASE_URL", "http://127.0.0.1:9/v1")  # never called: only the routes
    os.environ.setdefault("GRADER_CACHE", "off")
    from grader_service.app import create_app

    return create_app().openapi()


def _ref(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "—"
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    return f"`{schema.get('type', 'object')}`"


def _markdown(doc: dict[str, Any]) -> str:
    lines = [
        f"OpenAPI {doc.get('openapi')}, `{doc['info']['title']}` {doc['info']['version']}. The whole document: "
        "[openapi.json](../openapi.json) (and `GET /openapi.json`, `/docs`, `/redoc` on a running grader).",
        "",
        "| method | path | what | request body | responses |",
        "|---|---|---|---|---|",
    ]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {})
            req = _ref(next(iter(body.values()), {}).get("schema")) if body else "—"
            codes = ", ".join(sorted(op.get("responses", {})))
            what = (op.get("summary") or op.get("description", "").split("\n", 1)[0]).replace("|", "\\|")
            lines.append(f"| `{method.upper()}` | `{path}` | {what} | {req} | {codes} |")
    lines += ["", "## Schemas", ""]
    for name, s in sorted(doc.get("components", {}).get("schemas", {}).items()):
        desc = (s.get("description") or "").split("\n", 1)[0].replace("|", "\\|")
        fields = ", ".join(f"`{k}`" for k in s.get("properties", {}))
        lines.append(f"- **{name}**{': ' + desc if desc else ''}{' — fields: ' + fields if fields else ''}")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, _markdown(_schema()))
    return markdown


def on_files(files: Any, config: Any, **_: Any) -> Any:
    from mkdocs.structure.files import File

    files.append(File.generated(config, "openapi.json", content=json.dumps(_schema(), indent=1)))
    return files
