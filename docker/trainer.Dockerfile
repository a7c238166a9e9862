# The trainer (prepare, sft, grpo, evaluate). Default: a CUDA PyTorch image, whose torch is kept.
# CPU / air-gapped builds: BASE_IMAGE=<a Debian Python base> TORCH_SPEC="torch==2.13.0" and
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu (or wheels placed in docker/wheels/).
ARG BASE_IMAGE=pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime
FROM ${BASE_IMAGE}

ARG TORCH_SPEC=""
ARG TORCH_INDEX_URL=""
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/cache/huggingface
# --system-site-packages: a base image's own torch (CUDA build) stays in use
RUN python3 -m venv --system-site-packages "$VIRTUAL_ENV" \
 && useradd --create-home --uid 10001 trainer \
 && mkdir -p /data /runs /cache && chown 10001:10001 /data /runs /cache
WORKDIR /app
COPY docker/wheels/ /wheels/
# hadolint ignore=DL3013
RUN if [ -n "$TORCH_SPEC" ]; then \
      pip install --no-cache-dir --find-links /wheels ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"; \
    fi
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY grader_service ./grader_service
COPY trainer ./trainer
COPY examples ./examples
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --find-links /wheels ".[trainer]" && rm -rf /wheels

USER 10001
VOLUME ["/data", "/runs", "/cache"]
ENTRYPOINT ["rubric-trainer"]
CMD ["--help"]
