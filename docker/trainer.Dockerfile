# The GRPO trainer on a CUDA PyTorch image (GPU). CPU-only users: see the README's install.
FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime

WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY grader_service ./grader_service
COPY trainer ./trainer
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[trainer]"

ENTRYPOINT ["rubric-trainer"]
CMD ["--help"]
