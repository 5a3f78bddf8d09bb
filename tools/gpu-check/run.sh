#!/usr/bin/env bash
# THERE (the GPU machine, no network): unpacks what prepare.sh packed, finds the Vulkan loader and
# NVIDIA's Vulkan driver, and runs check.mjs, whose last stdout line is the JSON verdict.
# Usage: tools/gpu-check/dist/run.sh            (exit 0 only when every check passed)
#        GPU_CHECK_DRY_RUN=1 VK_DRIVER_FILES=/opt/flotilla-lavapipe/lvp_icd.json tools/gpu-check/dist/run.sh
#        rehearses it all on lavapipe with tiny sizes (its verdict fails on the vendor, as it should).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${GPU_CHECK_WORK:-$(mktemp -d)}"
note() { echo "[gpu-check] $*" >&2; }

gzip -dc "$HERE/payload.tar.gz" | tar -C "$WORK" -xf - || { echo '{"pass":false,"error":"cannot unpack payload.tar.gz"}'; exit 1; }
cp "$HERE/check.mjs" "$WORK/"

# Node: the machine's own when it is 20.19 or newer, else the one prepare.sh packed.
NODE="$(command -v node || true)"
if [ -z "$NODE" ] || ! "$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  gzip -dc "$HERE/node.gz" > "$WORK/node" && chmod +x "$WORK/node" && NODE="$WORK/node"
fi
note "node $("$NODE" --version) at $NODE"

# Vulkan loader: the system's libvulkan.so.1, else Debian's (payload vulkan/). Dawn dlopens it, so
# LD_LIBRARY_PATH must be set before node starts.
# grep without -q: -q stops reading early, ldconfig dies of SIGPIPE and pipefail calls it a miss.
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1 ' >/dev/null; then
  export LD_LIBRARY_PATH="$WORK/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  note "using the packed Vulkan loader"
fi

# NVIDIA's Vulkan driver lives in libGLX_nvidia.so.0. Containers started with only the compute
# capability lack its ICD file; when the library is there, point the loader at it.
icds="$(grep -ls nvidia /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')"
glx="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0 / && !p {p = $NF} END {if (p) print p}')"
if [ -z "$icds" ] && [ -n "$glx" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" > "$WORK/nvidia_icd.json"
  export VK_ADD_DRIVER_FILES="$WORK/nvidia_icd.json"
  note "no NVIDIA ICD file; wrote one for $glx"
fi
export GPU_CHECK_DIAG="nvidia-smi: $(nvidia-smi -L 2>&1 | head -1); ICD files: ${icds:-none}; libGLX_nvidia: ${glx:-absent}; VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
note "$GPU_CHECK_DIAG"

cd "$WORK" && timeout 400 "$NODE" check.mjs
status=$?
[ "$status" -eq 124 ] && echo '{"pass":false,"error":"check.mjs ran past 400 s"}'
exit "$status"
