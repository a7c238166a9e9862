"""GRPO under `accelerate launch` with two processes (DDP over gloo on the CPU) against the grader.

Real parts: accelerate's launcher (torchrun underneath), two TRL GRPOTrainer processes in one process group,
our CLI (`-m trainer grpo`), the client in each rank, and the grader on loopback. The judge is the scripted
server (deterministic verdicts), so each rank's rewards can be checked against `/v1/grade`; the policy is the
tiny random Qwen2 (plumbing, not learning: tests/test_learning_signal.py covers that). The GPU configs beside
cpu-2proc.yaml (DDP, FSDP2, ZeRO-2/3) are only parsed here; they need GPUs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import REPO
from tests.test_trainer_pipeline import heart_fixture, prepare_argv

CONFIGS = REPO / "trainer" / "accelerate_configs"
ACCELERATE = Path(sys.executable).parent / "accelerate"


@pytest.mark.slow
def test_two_process_grpo_each_rank_rewarded_for_its_own_completions(tmp_path: Path, grader_url: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "RUBRIC_GRADER_URL": grader_url}
    src = heart_fixture(tmp_path / "heart.jsonl")
    prep = prepare_argv(src, sft_fraction=0)
    subprocess.run([sys.executable, "-m", "trainer", *prep], env=env, cwd=tmp_path, check=True, capture_output=True)
    cmd = [
        str(ACCELERATE), "launch", "--config_file", str(CONFIGS / "cpu-2proc.yaml"),
        "-m", "trainer", "grpo", "--preset", "cpu-smoke", "--model_name_or_path", "tiny:models/tiny",
        "--dataset_path", "data", "--output_dir", "runs/grpo", "--reward_dump_dir", "dumps", "--max_steps", "3",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, _failure(proc.stderr)

    # the run finished on both ranks: 3 optimizer steps, the adapter saved once, 2 prompts x G=4 a step
    state = json.loads((tmp_path / "runs/grpo/checkpoint-3/trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert (tmp_path / "runs/grpo/adapter_model.safetensors").stat().st_size > 0
    steps = [h for h in state["log_history"] if "rewards/rubric_hybrid/mean" in h]
    assert len(steps) == 3 and all(h["num_tokens"] > 0 for h in steps)

    # each rank (one process id) called the grader once a step with its own 4 completions of its own prompt
    by_rank: dict[str, list[list[dict]]] = defaultdict(list)
    for path in sorted((tmp_path / "dumps").glob("batch-*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        by_rank[path.name.split("-")[1]].append(rows)
    assert len(by_rank) == 2 and all(len(batches) == 3 for batches in by_rank.values())
    rank_a, rank_b = by_rank.values()
    for step in range(3):
        a, b = rank_a[step], rank_b[step]
        assert len(a) == len(b) == 4
        assert len({r["group_id"] for r in a}) == 1 and len({r["group_id"] for r in b}) == 1  # one group each
        assert a[0]["prompt"] != b[0]["prompt"]  # different prompts: the ranks split the batch
    for rows in (r for batches in by_rank.values() for r in batches):
        items = [{"prompt": r["prompt"], "response": r["completion"], "rubric": r["rubric"]} for r in rows]
        want = httpx.post(f"{grader_url}/v1/grade", json={"items": items, "scheme": "hybrid"}, timeout=60).json()
        assert [r["reward"] for r in rows] == pytest.approx([x["reward"] for x in want["results"]])
        assert all(r["reward"] is not None for r in rows)


def _failure(stderr: str) -> str:
    """Each rank's own traceback lines first (torchrun's summary at the end hides which rank failed why)."""
    ranks = [line for line in stderr.splitlines() if line.startswith("[rank")]
    return "\n".join(ranks[-60:]) + "\n...\n" + stderr[-2000:]


@pytest.mark.parametrize("name", ["ddp", "fsdp2", "zero2", "zero3", "cpu-2proc"])
def test_accelerate_configs_parse(name: str) -> None:
    """accelerate reads each config as the launcher would (GPU ones: prepared, not run here)."""
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(CONFIGS / f"{name}.yaml"))
    raw = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    assert cfg.num_processes == raw["num_processes"] >= 2
    want = {"ddp": "MULTI_GPU", "fsdp2": "FSDP", "zero2": "DEEPSPEED", "zero3": "DEEPSPEED", "cpu-2proc": "MULTI_GPU"}
    assert str(cfg.distributed_type).split(".")[-1] == want[name]
    if name.startswith("zero"):
        assert cfg.deepspeed_config["zero_stage"] == int(name[-1])
    if name == "fsdp2":
        assert cfg.fsdp_config["fsdp_version"] == 2


def test_multi_gpu_preset_keeps_the_papers_batch() -> None:
    """paper-multi-gpu on ddp.yaml's 6 processes: 24 completions an optimizer step (4 prompts x G=6), as
    `paper` on one GPU, and a generation batch G divides; generation goes to TRL's vLLM server."""
    presets = REPO / "trainer" / "presets"
    one = yaml.safe_load((presets / "paper.yaml").read_text())["grpo"]
    multi = yaml.safe_load((presets / "paper-multi-gpu.yaml").read_text())["grpo"]
    procs = yaml.safe_load((CONFIGS / "ddp.yaml").read_text())["num_processes"]
    per_step = multi["per_device_train_batch_size"] * procs * multi["gradient_accumulation_steps"]
    assert per_step == one["per_device_train_batch_size"] * one["gradient_accumulation_steps"] == 24
    assert per_step % multi["num_generations"] == 0 and multi["vllm_mode"] == "server"
    shared_keys = ("model_name_or_path", "lora_r", "lora_target_modules", "learning_rate", "num_generations", "beta")
    assert all(multi[k] == one[k] for k in shared_keys)


def test_ranks_building_the_tiny_model_together_all_load_it(tmp_path: Path) -> None:
    """Two processes resolving `tiny:DIR` at once (as both ranks of `accelerate launch` do) each load a
    complete model: before the build was renamed into place, one rank read a directory whose config and
    tokenizer were written but whose weights were not (CI: rank 1 exited 1, rank 0 lost its peer)."""
    code = (
        "import sys; from trainer.models import resolve_model_path; "
        "from transformers import AutoModelForCausalLM; "
        "AutoModelForCausalLM.from_pretrained(resolve_model_path('tiny:' + sys.argv[1])); print('loaded')"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    for attempt in range(3):
        out = tmp_path / f"m{attempt}"
        cmd = [sys.executable, "-c", code, str(out)]
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        procs = [subprocess.Popen(cmd, env=env, **pipes) for _ in range(2)]
        results = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [err[-1500:] for _, err in results]
        assert all("loaded" in stdout for stdout, _ in results)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no build left behind
