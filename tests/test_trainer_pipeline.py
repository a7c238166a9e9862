"""The trainer's full path on CPU, offline: prepare → sft (2 steps) → grpo (2 steps, cpu-smoke preset)
against the real grader on loopback with the scripted judge; plus data-preparation details."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import shared_file
from trainer._errors import SourceUnavailable
from trainer.cli import PRESETS, main, preset_defaults
from trainer.prepare import PrepareArguments, prepare
from trainer.prepare.sources import load_records

RUBRIC_OK = [
    {"criterion": "Essential Criteria: Uses the letter e [contains=e]", "points": 5, "title": "e"},
    {"criterion": "Important Criteria: Uses the letter a [contains=a]", "points": 3, "title": "a"},
    {"criterion": "Optional Criteria: Uses the letter o [contains=o]", "points": 1, "title": "o"},
    {"criterion": "Pitfall Criteria: Uses the letter z [contains=z]", "points": -2, "title": "z"},
]


def prepare_argv(src: Path, output_dir: str = "data", **flags: object) -> list[str]:
    """`prepare` over a fixture file, no record dropped for its length; `flags` as `--name value`."""
    argv = ["prepare", "--source", str(src), "--output_dir", output_dir, "--max_length_percentile", "100"]
    for name, value in flags.items():
        argv += [f"--{name}", str(value)]
    return argv


def heart_fixture(path: Path, n: int = 12) -> Path:
    """Our own records in the paper's heart-subset format, plus a non-heart one and a short rubric."""
    rows = []
    for i in range(n):
        q = f"Case {i}: chest pain on exertion for {i + 1} days. What should I do?"
        rows.append(
            {
                "question": q,
                "reference_answer": f"Seek care for angina, case {i}.",
                "prompt": [{"role": "user", "content": q}],
                "rubrics": RUBRIC_OK,
                "heart_related": "YES",
                "heart_theme": "chest pain",
                "split": "train",
            }
        )
    rows.append(
        {
            "question": "Knee pain after running?",
            "reference_answer": "Rest.",
            "prompt": [{"role": "user", "content": "Knee pain after running?"}],
            "rubrics": RUBRIC_OK,
            "heart_related": "NO",
            "heart_theme": None,
        }
    )
    rows.append(
        {
            "question": "Palpitations: short rubric case?",
            "reference_answer": "Maybe caffeine.",
            "prompt": [{"role": "user", "content": "Palpitations: short rubric case?"}],
            "rubrics": RUBRIC_OK[:3],
            "heart_related": "YES",
            "heart_theme": "heart palpitations",
        }
    )
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_prepare_fixture_filters_splits_and_is_deterministic(tmp_path: Path) -> None:
    src = heart_fixture(tmp_path / "heart.jsonl")
    args = dict(source=str(src), sft_fraction=0.25, eval_fraction=0.2, max_length_percentile=100.0, seed=3)
    s1 = prepare(load_records(str(src), ["train"]), PrepareArguments(output_dir=str(tmp_path / "a"), **args))
    s2 = prepare(load_records(str(src), ["train"]), PrepareArguments(output_dir=str(tmp_path / "b"), **args))
    assert s1["heart_related"] == 13 and s1["per_theme"]["chest pain"] == 12
    assert s2["splits"] == s1["splits"]
    for name in ("train", "sft", "test"):
        assert (tmp_path / "a" / f"{name}.jsonl").read_text() == (tmp_path / "b" / f"{name}.jsonl").read_text()
    grpo, sft, ev = (_read(tmp_path / "a" / f"{n}.jsonl") for n in ("train", "sft", "test"))
    ids = [r["id"] for r in grpo] + [r["id"] for r in sft] + [r["id"] for r in ev]
    assert len(ids) == len(set(ids))  # disjoint
    assert all(r["n_criteria"] > 3 for r in grpo)
    assert grpo[0]["prompt"][0]["role"] == "system" and "cardiology" in grpo[0]["prompt"][0]["content"]
    assert grpo[0]["rubric"][3]["points"] == -2
    assert sft[0]["completion"][0]["role"] == "assistant"
    other = prepare(
        load_records(str(src), ["train"]),
        PrepareArguments(output_dir=str(tmp_path / "c"), **{**args, "seed": 4}),
    )
    assert other["heart_related"] == s1["heart_related"]
    assert {r["id"] for r in _read(tmp_path / "c" / "test.jsonl")} != {r["id"] for r in ev}  # the seed matters


def test_prepare_drops_prompts_above_the_length_percentile(tmp_path: Path) -> None:
    src = heart_fixture(tmp_path / "heart.jsonl", n=20)
    s = prepare(
        load_records(str(src), ["train"]),
        PrepareArguments(output_dir=str(tmp_path / "o"), max_length_percentile=50.0, eval_fraction=0.0),
    )
    assert 0 < s["dropped_length"] < s["heart_related"]
    kept = _read(tmp_path / "o" / "train.jsonl") + _read(tmp_path / "o" / "sft.jsonl")
    assert all(len(r.get("question", r["prompt"][-1]["content"])) <= s["length_cutoff_chars"] for r in kept)


def test_prepare_shared_rar_medicine_sample(tmp_path: Path) -> None:
    src = shared_file("rar_medicine", "rar_medicine_hf_schema_sample104.jsonl")
    summary = main(["prepare", "--source", str(src), "--output_dir", str(tmp_path / "p"), "--seed", "1"])
    # the labelling guide's reading of this sample, reference answers included: see tests/test_heart.py
    assert summary["read"] == 104 and summary["heart_related"] == 5
    assert summary["per_theme"]["cardiomyopathy"] == 1 and summary["per_theme"]["congenital heart disease"] == 1
    assert sum(summary["splits"].values()) == 5 - summary["dropped_length"] - summary["dropped_few_criteria"]
    stats = json.loads((tmp_path / "p" / "stats.json").read_text())
    assert stats["config"]["seed"] == 1


def test_offline_sources_say_which_local_option_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import huggingface_hub.constants  # read at import time: an earlier test may have imported it already

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SourceUnavailable, match="--source"):
        list(load_records("ScaleAI/RaR-Medicine-does-not-exist", ["train"]))
    from trainer.models import resolve_model_path

    with pytest.raises(SourceUnavailable, match="--model_name_or_path"):
        resolve_model_path("Qwen/Qwen3-does-not-exist")


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESETS.glob("*.yaml")))
def test_presets_only_set_known_options(preset: str) -> None:
    from transformers import HfArgumentParser
    from trl import GRPOConfig, ModelConfig, SFTConfig

    from trainer.grpo import GRPOScriptArguments
    from trainer.sft import SFTScriptArguments

    for command, types in (
        ("sft", (SFTScriptArguments, SFTConfig, ModelConfig)),
        ("grpo", (GRPOScriptArguments, GRPOConfig, ModelConfig)),
    ):
        dests = {a.dest for a in HfArgumentParser(types)._actions}
        section = preset_defaults(preset, command)
        assert section and set(section) <= dests, set(section) - dests


@pytest.mark.slow
def test_full_path_prepare_sft_grpo_cpu_smoke(
    tmp_path: Path, grader_url: str, judge_script, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUBRIC_GRADER_URL", grader_url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    src = heart_fixture(tmp_path / "heart.jsonl")
    main(prepare_argv(src, sft_fraction=0.3, eval_fraction=0.1))
    common = ["--preset", "cpu-smoke", "--model_name_or_path", "tiny:models/tiny", "--dataset_path", "data"]
    sft = main(["sft", *common, "--output_dir", "runs/sft"])
    assert sft.state.global_step == 2
    grpo = main(["grpo", *common, "--output_dir", "runs/grpo", "--sft_adapter", "runs/sft"])
    assert grpo.state.global_step == 2

    # rewards reached the trainer: logged per step, from judge calls made through the grader
    steps = [h for h in grpo.state.log_history if "rewards/rubric_hybrid/mean" in h]
    assert len(steps) == 2 and all(h["rubric/judge_calls"] + h["rubric/cache_hits"] == 16 for h in steps)
    # per-criterion signals in the training logs, beside the aggregates
    assert all("rubric/criteria/flip_rate" in h and "rubric/criteria/pitfalls_per_item" in h for h in steps)
    assert any(k.startswith("rubric/criteria/met_rate/") for k in steps[0])
    assert judge_script.calls > 0

    # the adapters exist and reload on the base model
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    for adapter in ("runs/sft", "runs/grpo"):
        assert (Path(adapter) / "adapter_model.safetensors").stat().st_size > 0
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("models/tiny"), adapter)
        assert any("lora_" in n for n, _ in model.named_parameters())

    # checkpoints every step, and resume continues from the last one
    assert {"checkpoint-1", "checkpoint-2"} <= set(os.listdir("runs/grpo"))
    resumed = main(
        [
            "grpo",
            *common,
            "--output_dir",
            "runs/grpo",
            "--sft_adapter",
            "runs/sft",
            "--max_steps",
            "3",
            "--resume_from_checkpoint",
            "last",
        ]
    )
    assert resumed.state.global_step == 3
    assert len([h for h in resumed.state.log_history if "rewards/rubric_hybrid/mean" in h]) == 3
    assert "[trainer] resuming from runs/grpo/checkpoint-2 (step 2)" in capsys.readouterr().out


def test_local_parquet_and_directory_sources(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(x) for x in heart_fixture(tmp_path / "heart.jsonl").read_text().splitlines()]
    d = tmp_path / "dir"
    d.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), d / "train.parquet")
    held_out = [{**r, "question": r["question"] + " (held out)"} for r in rows[:2]]
    (d / "validation.jsonl").write_text("\n".join(json.dumps(r) for r in [*held_out, rows[0]]))
    got = list(load_records(str(d), ["train"]))
    assert [s for s, _ in got].count("train") == len(rows) and [s for s, _ in got].count("validation") == 3
    summary = prepare(iter(got), PrepareArguments(output_dir=str(tmp_path / "o"), max_length_percentile=100.0))
    assert summary["heart_related"] == 15 and summary["duplicates"] == 1
    # validation/test records form the eval split (no extra hold-out from train then)
    ev = _read(tmp_path / "o" / "test.jsonl")
    assert sorted(r["question"] for r in ev) == sorted(r["question"] for r in held_out)
