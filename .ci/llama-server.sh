#!/usr/bin/env bash
# Builds llama.cpp's llama-server (CPU only) and writes a tiny GGUF model
# (.ci/tiny_gguf.py), for the integration test against a real
# OpenAI-compatible server. Everything lands in a cache outside the clone
# ($PSVEVAL_CACHE, else ~/.cache/psveval), keyed by the package version
# (one llama.cpp commit) and the model script's hash, so only the first CI
# run on a machine pays for the build. Prints the directory on its last
# line: build/bin/llama-server and models/tiny.gguf are in it.
#
# Source: the llama.cpp git bundle shipped inside the npm package
# node-llama-cpp@3.21.1 (the npm registry is reachable from CI; GitHub is not).
set -euo pipefail

cache=${PSVEVAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/psveval}
version=3.21.1
dir=$cache/llama-$version
mkdir -p "$dir"

need=()
command -v cmake >/dev/null || need+=(cmake)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get install -y -q "${need[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${need[@]}" >&2; }
fi

if [ ! -d "$dir/src/.git" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-llama-cpp@$version" >/dev/null)
  tar -xzf "$tmp"/node-llama-cpp-$version.tgz -C "$tmp" package/llama/gitRelease.bundle
  rm -rf "$dir/src"
  git clone -q "$tmp/package/llama/gitRelease.bundle" "$dir/src"
  rm -rf "$tmp"
fi

if [ ! -x "$dir/build/bin/llama-server" ]; then
  cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF >&2
  cmake --build "$dir/build" --target llama-server -j "$(nproc)" >&2
fi

script="$(cd "$(dirname "$0")" && pwd)/tiny_gguf.py"
mmproj="$(cd "$(dirname "$0")" && pwd)/tiny_mmproj.py"
key=$(cat "$script" "$mmproj" | sha256sum | cut -c1-12)
if [ ! -s "$dir/models-$key/tiny.gguf" ] || [ ! -s "$dir/models-$key/tiny-mmproj.gguf" ]; then
  PYTHONPATH="$dir/src/gguf-py" /usr/bin/python3 "$script" \
    --vocab "$dir/src/models/ggml-vocab-llama-spm.gguf" --out "$dir/models-$key" >&2
  # A vision projector for it (LLaVA's mlp type), for llama-server --mmproj.
  PYTHONPATH="$dir/src/gguf-py" /usr/bin/python3 "$mmproj" --out "$dir/models-$key" >&2
fi
ln -sfn "models-$key" "$dir/models"

echo "$dir"
