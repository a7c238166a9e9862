"""`python -m grader_service`: serve the grader with uvicorn, configured by GRADER_* variables.

`python -m grader_service keys add NAME [--file F] [--requests-per-minute N] [--judge-tokens-per-minute N]`
adds a named key to the keys file and prints its token once.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import uvicorn

from grader_service._exposure import exposure_problem
from grader_service._logging import configure
from grader_service.keys import KeyFileError, KeyRing
from grader_service.settings import GraderSettings


def keys_command(argv: list[str]) -> int:
    from grader_service.keys import add_key

    p = argparse.ArgumentParser(prog="python -m grader_service keys", description="named bearer keys")
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="make a key, append its hash to the file, print the token once")
    add.add_argument("name")
    add.add_argument("--file", default=os.environ.get("GRADER_API_KEYS_FILE") or "grader-keys.toml")
    add.add_argument("--requests-per-minute", type=float)
    add.add_argument("--judge-tokens-per-minute", type=float)
    a = p.parse_args(argv)
    try:
        token = add_key(a.file, a.name, a.requests_per_minute, a.judge_tokens_per_minute)
    except KeyFileError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"# key {a.name!r} added to {a.file} (only its SHA-256 is kept there); its token, shown once:")
    print(token)
    return 0


def main() -> None:
    if sys.argv[1:2] == ["keys"]:
        raise SystemExit(keys_command(sys.argv[2:]))
    settings = GraderSettings()
    if (problem := exposure_problem(settings)) is not None:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
    try:
        KeyRing.from_settings(settings)  # a keys file that cannot be used stops here, in one line
    except KeyFileError as e:
        print(f"GRADER_API_KEYS_FILE: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    configure(settings.log_format, settings.log_level)
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_s,
    }
    if settings.workers > 1:
        # every worker writes its metrics where /metrics (in any worker) can add them up; the judge cap,
        # quotas and cache are shared as GRADER_JUDGE_CONCURRENCY and GRADER_CACHE describe (README)
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="grader-metrics-"))
        uvicorn.run("grader_service.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        from grader_service.app import create_app

        uvicorn.run(create_app(settings), **common)


if __name__ == "__main__":
    main()
