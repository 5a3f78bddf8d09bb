#!/usr/bin/env bash
# HERE (a machine with the repo, node_modules and apt): builds tools/gpu-check/dist/, everything the
# GPU check needs on a machine with no network: the bundled training code (no node_modules needed),
# dawn.node, the MNIST digits, the tfjs wasm binaries, this Node binary and libvulkan1's loader
# (unpacked here from the Debian .deb, so the GPU machine needs no dpkg).
# gzip, not xz: the GPU machine's image may lack xz, never gzip. The folder must stay under 60 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
# dist/: ignored by git and eslint alike, and named in the device run's carry list.
OUT=tools/gpu-check/dist
rm -rf "$OUT" && mkdir -p "$OUT/stage/node_modules/@tensorflow"
stage="$OUT/stage/node_modules"

echo "== bundle"
# webgpu stays external: its index.js finds dawn.node beside itself. The banner gives the bundled
# CommonJS parts of tfjs the `require` and `__dirname` they expect, in this ES module.
npx --no-install esbuild tools/gpu-check/check.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$OUT/check.mjs" --external:webgpu --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-node \
  --banner:js="import { createRequire as __flotillaRequire } from 'node:module'; import { fileURLToPath as __flotillaPath } from 'node:url'; globalThis.require ??= __flotillaRequire(import.meta.url); globalThis.__filename ??= __flotillaPath(import.meta.url); globalThis.__dirname ??= __flotillaPath(new URL('.', import.meta.url));" \
  --log-level=warning

echo "== runtime files"
mkdir -p "$stage/webgpu/dist" "$stage/mnist/src" "$stage/@tensorflow/tfjs-backend-wasm/dist"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$stage/webgpu/"
cp node_modules/webgpu/dist/linux-x64.dawn.node "$stage/webgpu/dist/"
cp node_modules/mnist/package.json "$stage/mnist/" && cp -r node_modules/mnist/src/digits "$stage/mnist/src/"
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$stage/@tensorflow/tfjs-backend-wasm/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$stage/@tensorflow/tfjs-backend-wasm/dist/"
(cd "$OUT" && apt-get download -qq libvulkan1 2>/dev/null) || { echo "apt-get download libvulkan1 failed" >&2; exit 1; }
dpkg-deb -x "$OUT"/libvulkan1_*.deb "$OUT/deb" && mkdir -p "$OUT/stage/vulkan"
cp -P "$OUT"/deb/usr/lib/x86_64-linux-gnu/libvulkan.so.1* "$OUT/stage/vulkan/"
vulkan_deb="$(basename "$OUT"/libvulkan1_*.deb)" && rm -rf "$OUT/deb" "$OUT"/libvulkan1_*.deb
tar -C "$OUT/stage" -cf - node_modules vulkan | gzip -9 > "$OUT/payload.tar.gz"
rm -rf "$OUT/stage"

echo "== node $(node --version)"
gzip -9 -c "$(command -v node)" > "$OUT/node.gz"
cp tools/gpu-check/run.sh "$OUT/"
chmod +x "$OUT/run.sh"

node -e '
  const fs = require("node:fs"), path = require("node:path"), crypto = require("node:crypto");
  const dir = process.argv[1];
  const files = Object.fromEntries(fs.readdirSync(dir).sort().map((f) => {
    const b = fs.readFileSync(path.join(dir, f));
    return [f, { bytes: b.length, sha256: crypto.createHash("sha256").update(b).digest("hex") }];
  }));
  const commit = require("node:child_process").execSync("git rev-parse HEAD").toString().trim();
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ commit, node: process.version, vulkanLoader: process.argv[2], files }, null, 1) + "\n");
' "$OUT" "$vulkan_deb"
bytes=$(du -sb "$OUT" | cut -f1)
echo "prepared $OUT: $((bytes / 1048576)) MiB"
if [ "$bytes" -ge $((60 * 1048576)) ]; then echo "too big: the GPU check folder must stay under 60 MiB" >&2; exit 1; fi
