"""`make gpu-wheels`: the wheels a GPU machine without network needs for scripts/gpu_check.sh, in .whl/.

The GPU image is assumed to hold torch, transformers, peft, accelerate and the scientific stack (its
package list: /work/.library/device/KINDS.md, or `pip list` there); everything else the trainer and
the grader import is taken at this venv's versions, as Python 3.12 manylinux wheels.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import subprocess
import sys
from pathlib import Path

ROOTS = ["trl", "datasets", "openai", "fastapi", "uvicorn", "pydantic-settings", "tenacity", "httpx"]
ON_GPU_IMAGE = {
    "torch", "transformers", "peft", "accelerate", "numpy", "pandas", "pyarrow", "huggingface-hub", "tokenizers",
    "safetensors", "jinja2", "markupsafe", "packaging", "psutil", "pyyaml", "filelock", "fsspec", "tqdm", "regex",
    "requests", "urllib3", "certifi", "idna", "charset-normalizer", "typing-extensions", "xxhash", "aiohttp",
    "aiosignal", "frozenlist", "multidict", "yarl", "propcache", "attrs", "aiohappyeyeballs", "anyio", "h11",
    "httpcore", "httpx", "sniffio", "click", "annotated-doc", "hf-xet", "python-dateutil", "six", "sympy",
    "networkx", "mpmath", "triton", "setuptools", "rich", "markdown-it-py", "mdurl", "pygments", "typer",
    "shellingham", "uvloop", "zipp", "matplotlib", "pillow", "contourpy", "cycler", "fonttools", "kiwisolver",
    "pyparsing", "scipy", "tensorboard", "protobuf", "grpcio", "werkzeug", "markdown", "absl-py",
}  # fmt: skip
PLATFORMS = [
    "manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
    "manylinux2014_x86_64", "manylinux1_x86_64",
]  # fmt: skip


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: list[str]) -> dict[str, str]:
    """name -> installed version for the roots and what they need, minus what the GPU image has."""
    seen: dict[str, str] = {}
    todo = list(roots)
    while todo:
        name = norm(todo.pop())
        if name in seen or (name in ON_GPU_IMAGE and name not in roots):
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[name] = dist.version
        for req in dist.requires or []:
            if "extra ==" in req or ("emscripten" in req and "!=" not in req):
                continue
            todo.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
    return {k: v for k, v in seen.items() if k not in ON_GPU_IMAGE}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=Path(".whl"))
    ap.add_argument("--python-version", default="3.12")
    a = ap.parse_args()
    a.dest.mkdir(exist_ok=True)
    pins = closure(ROOTS)
    platform_args = [arg for p in PLATFORMS for arg in ("--platform", p)]
    cmd = [
        sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
        "--python-version", a.python_version, "--implementation", "cp", *platform_args, "-d", str(a.dest),
        *(f"{k}=={v}" for k, v in sorted(pins.items())),
    ]  # fmt: skip
    print("wheels:", ", ".join(f"{k}=={v}" for k, v in sorted(pins.items())), flush=True)
    rc = subprocess.call(cmd)
    size = sum(f.stat().st_size for f in a.dest.glob("*.whl"))
    print(f"{len(list(a.dest.glob('*.whl')))} wheels, {size / 2**20:.1f} MiB in {a.dest}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
