"""Where the responses come from: a local HF model (+ LoRA), an OpenAI-compatible endpoint, or a file."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from trainer.evaluation.data import Example, load_jsonl_map


class Responder(Protocol):
    name: str

    def respond(self, examples: list[Example]) -> Iterator[tuple[str, str | None]]: ...


def _messages(ex: Example, system: str | None) -> list[dict[str, str]]:
    msgs = [m.model_dump() for m in ex.conversation]
    return ([{"role": "system", "content": system}] if system else []) + msgs


class IdealResponder:
    """HealthBench's own ideal completions: evaluates the references (or the judge) instead of a model."""

    name = "ideal_completions"

    def respond(self, examples: list[Example]) -> Iterator[tuple[str, str | None]]:
        for ex in examples:
            yield ex.prompt_id, ex.ideal_completion


class FileResponder:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.name = f"file:{self.path.name}"
        self._rows = load_jsonl_map(self.path)

    def respond(self, examples: list[Example]) -> Iterator[tuple[str, str | None]]:
        for ex in examples:
            row = self._rows.get(ex.prompt_id)
            yield ex.prompt_id, (row or {}).get("response")


class OpenAIResponder:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        *,
        system: str | None,
        max_tokens: int,
        temperature: float,
        concurrency: int = 8,
    ) -> None:
        self.base_url, self.model, self.api_key = base_url, model, api_key
        self.system, self.max_tokens, self.temperature, self.concurrency = system, max_tokens, temperature, concurrency
        self.name = f"openai:{model}"

    def respond(self, examples: list[Example]) -> Iterator[tuple[str, str | None]]:
        for chunk in _chunks(examples, self.concurrency * 4):
            yield from asyncio.run(self._batch(chunk))

    async def _batch(self, examples: list[Example]) -> list[tuple[str, str | None]]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY", max_retries=3, timeout=300)
        sem = asyncio.Semaphore(self.concurrency)

        async def one(ex: Example) -> tuple[str, str | None]:
            async with sem:
                r = await client.chat.completions.create(
                    model=self.model,
                    messages=_messages(ex, self.system),  # type: ignore[arg-type]
                    max_tokens=self.max_tokens,
                    temperature=self.temperature,
                )
                return ex.prompt_id, r.choices[0].message.content

        try:
            return list(await asyncio.gather(*(one(e) for e in examples)))
        finally:
            await client.close()


class HFResponder:
    def __init__(
        self,
        model_name_or_path: str,
        adapter: str | None,
        *,
        system: str | None,
        max_new_tokens: int,
        temperature: float,
        batch_size: int = 4,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from trainer.models import resolve_model_path

        path = resolve_model_path(model_name_or_path)
        self.tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model = AutoModelForCausalLM.from_pretrained(path, dtype="auto").to(device)
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter)
        self.model = model.eval()
        self.system, self.max_new_tokens, self.temperature = system, max_new_tokens, temperature
        self.batch_size = batch_size
        self.name = f"hf:{model_name_or_path}" + (f"+{adapter}" if adapter else "")

    def respond(self, examples: list[Example]) -> Iterator[tuple[str, str | None]]:
        import torch

        for chunk in _chunks(examples, self.batch_size):
            texts = [
                self.tokenizer.apply_chat_template(
                    _messages(ex, self.system), tokenize=False, add_generation_prompt=True
                )
                for ex in chunk
            ]
            enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
                self.model.device
            )
            with torch.no_grad():
                out = self.model.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=self.temperature > 0,
                    temperature=self.temperature if self.temperature > 0 else None,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            for ex, row in zip(chunk, out[:, enc["input_ids"].shape[1] :], strict=True):
                yield ex.prompt_id, self.tokenizer.decode(row, skip_special_tokens=True)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
