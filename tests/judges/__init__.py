"""Imitations of the judge servers people run, for the conformance matrix (tests/test_judge_families.py).

Each module imitates one product's documented wire behaviour (its docstring cites the docs and issue
threads it follows): `vllm`, `sglang`, `llamacpp`, `openai` (chat and reasoning models), `groq`
(gpt-oss hosted), and `broken` (malformed 200 replies). They are test servers, not models: the
verdicts come from ``[p=...]`` directives in the criteria, as in tests/scripted_judge.py.
"""
