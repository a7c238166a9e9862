"""Closed by default: a grader listening beyond loopback must ask for a token, or be opened on purpose."""

from __future__ import annotations

import ipaddress

from grader_service.settings import GraderSettings


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def exposure_problem(settings: GraderSettings) -> str | None:
    """The one line to print and stop on, or None when the grader may start as configured."""
    if is_loopback(settings.host) or settings.api_key is not None or settings.api_keys_file or settings.open:
        return None
    return (
        f"refusing to listen on {settings.host}:{settings.port} without a bearer token: anyone who reaches the port "
        "could use the judge. Set GRADER_API_KEY or GRADER_API_KEYS_FILE, or GRADER_OPEN=true if it is meant "
        "to be open."
    )
