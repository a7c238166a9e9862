"""`make soak` in miniature: one minute of the same load, faults, Redis restart and grader restart.

The 30-minute run is `make soak` (not part of the tests); this keeps its script working and checks the
same pass conditions on a short run: no lost items, no untyped nulls, no 5xx, bounded RSS and FD growth.
Real parts: redis-server (skipped where missing), the grader as its own process, the async client; the judge
is the scripted server, with faults injected.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_one_minute_soak_holds(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server (apt-get install redis-server; .ci/run installs it)")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "soak.py"), "--minutes", "1", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert proc.returncode == 0 and report["ok"], proc.stdout[-3000:] + proc.stderr[-3000:]
    assert report["requests"] > 100 and report["lost_items"] == 0 and report["untyped_nulls"] == 0
    assert report["http_5xx"] == 0 and len(report["grader_processes"]) == 2 and len(report["events"]) == 2
    assert sum(report["typed_nulls"].values()) > 0  # the injected judge faults came back typed
    assert "| requests | items | lost items |" in (tmp_path / "report.md").read_text()
