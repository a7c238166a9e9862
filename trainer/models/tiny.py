"""A tiny randomly initialised Qwen2 model with a byte-level BPE tokenizer trained on the fly.

For offline smoke runs and tests (the `cpu-smoke` preset): nothing is downloaded. It only shows the
plumbing; it cannot answer medical questions.
"""

from __future__ import annotations

from pathlib import Path

from trainer.models._build import build_in_place

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_CORPUS = [
    "Chest pain that spreads to the arm needs emergency care: call an ambulance and chew aspirin.",
    "Hypertension is treated with lifestyle change, ACE inhibitors, diuretics and calcium channel blockers.",
    "Atrial fibrillation raises stroke risk; anticoagulation is considered with the CHA2DS2-VASc score.",
    "Heart failure symptoms include breathlessness, ankle swelling and fatigue; echocardiography helps.",
    "An ECG shows ST elevation in myocardial infarction; troponin confirms myocardial injury.",
    "Palpitations after caffeine are often benign, but syncope or chest pain call for urgent review.",
    "Statins lower LDL cholesterol and reduce coronary artery disease events.",
    "Valve disease such as aortic stenosis causes a murmur, angina and syncope on exertion.",
]


def build_tiny_model(out_dir: str | Path, *, vocab_size: int = 512, seed: int = 0) -> Path:
    """Write a tiny Qwen2 causal LM and its tokenizer (with a chat template) to `out_dir`, once."""
    out = Path(out_dir)
    if (out / "config.json").exists() and (out / "tokenizer.json").exists():
        return out
    return build_in_place(out, lambda tmp: _write(tmp, vocab_size=vocab_size, seed=seed))


def _write(out: Path, *, vocab_size: int, seed: int) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(out)

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(hf_tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=hf_tok.eos_token_id,
        pad_token_id=hf_tok.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = hf_tok.eos_token_id
    model.generation_config.pad_token_id = hf_tok.pad_token_id
    model.save_pretrained(out)
