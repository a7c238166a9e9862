#!/usr/bin/env bash
# Build llama.cpp's own OpenAI-compatible server (`llama-server`: parallel slots, continuous batching,
# prompt cache) from the llama.cpp source vendored in llama-cpp-python's sdist on PyPI, the same version as
# the installed bindings, and put it at $VENV/bin/llama-server. No prebuilt binary, nothing but PyPI.
# GGML_NATIVE=OFF: a native build dies with SIGILL on some VMs. About 9 minutes on 2 cores; skipped when
# the binary is already there. Usage: scripts/build_llama_server.sh [VENV]
set -euo pipefail
VENV=${1:-.venv}
OUT="$VENV/bin/llama-server"
if [[ -x "$OUT" ]] && "$OUT" --version >/dev/null 2>&1; then
    echo "llama-server: $OUT already built"
    exit 0
fi
VERSION=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$VENV/bin/python" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK" 2>&1 \
    | grep -v "is ignored" || true
tar xzf "$WORK"/llama_cpp_python-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_BUILD_HTML=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF >"$WORK/cmake.log" 2>&1 || { tail -30 "$WORK/cmake.log"; exit 1; }
cmake --build "$WORK/build" --target llama-server -j"$(nproc)" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
install -m 755 "$WORK/build/bin/llama-server" "$OUT"
echo "llama-server: built $("$OUT" --version 2>&1 | head -1) at $OUT"
