"""Keeping secrets out of what the grader shows: URLs with credentials, keys echoed in judge errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_KEYLIKE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6,}|gsk_[A-Za-z0-9]{6,}|hf_[A-Za-z0-9]{6,}|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{6,}"
    r"|(?i:api[_-]?key|token|secret|password)[\"']?\s*[=:]\s*[\"']?[^\s\"',;&}]{4,})"
)
_SECRET_PARAM = re.compile(r"key|token|secret|password|sig", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def redact_url(url: str) -> str:
    """`url` without user:password and with secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if "@" in parts.netloc:
        netloc = "***@" + netloc
    query = urlencode([(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def sanitize(text: str, limit: int = 200, secrets: Iterable[str] = ()) -> str:
    """A short, single-line excerpt of untrusted text (a judge's error body) with secrets masked."""
    out = text
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    out = _KEYLIKE.sub("***", out)
    out = _CONTROL.sub(" ", out)
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1] + "…"
