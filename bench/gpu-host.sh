#!/usr/bin/env bash
# The GPU-host check, one script: on a machine with a GPU (e.g. an NVIDIA H200, no network), the
# 224² step checked against the CPU provider, then `ort-train`'s device-resident training img/s at
# batch 32/64/128 and inference img/s, all on the WebGPU provider; JSON lines into $OUT (default
# ./gpu-results). Needs node ≥ 20 (a copied binary is enough: docs/performance.md, "GPU"),
# this checkout with node_modules, the Vulkan loader (libvulkan.so.1) and the driver's ICD file.
#   bench/gpu-host.sh            the real run (H200: about 10 minutes)
#   bench/gpu-host.sh --tiny     the same steps at 32², ×0.125, VGG11 — proves the script on SwiftShader
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-./gpu-results}
mkdir -p "$OUT"
NODE=${NODE:-node}
tiny=0
[ "${1:-}" = "--tiny" ] && tiny=1

if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/lib/chromium/vk_swiftshader_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
fi
case "${VK_DRIVER_FILES:-}" in *swiftshader*) export LD_LIBRARY_PATH=/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;; esac
echo "gpu-host: VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}" | tee "$OUT/env.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >>"$OUT/env.txt" 2>&1 || true

status=0
run() { # name, then the command; its last stdout line (JSON) goes to $OUT/name.json, stderr to name.log
  local name=$1; shift
  echo "gpu-host: $name"
  if ! "$@" >"$OUT/$name.out" 2>"$OUT/$name.log"; then status=1; echo "gpu-host: $name FAILED (see $OUT/$name.log)"; fi
  tail -n 1 "$OUT/$name.out" | tee "$OUT/$name.json"
}
TSX=(--import tsx)
if [ $tiny = 1 ]; then
  run step-check "$NODE" "${TSX[@]}" bench/gpu-step.ts --preset tiny
  run train-infer "$NODE" "${TSX[@]}" bench/train-gpu.ts --size 32 --width 0.125 --head-hidden 16 --backbone vgg11 --batch 4 --steps 2 --infer-runs 2
else
  run step-check "$NODE" "${TSX[@]}" bench/gpu-step.ts --preset paper224
  run train-infer "$NODE" "${TSX[@]}" bench/train-gpu.ts --size 224 --batch 32,64,128 --steps 10
fi
exit $status
