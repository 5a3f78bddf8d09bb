#!/usr/bin/env bash
# Installs Mesa's lavapipe 25 (a Vulkan driver that runs on the CPU) for the webgpu backend's tests,
# without replacing system packages: the bookworm-backports mesa-vulkan-drivers .deb is unpacked into
# $DEST and an ICD file there points at it; select it with VK_DRIVER_FILES=$DEST/lvp_icd.json.
# Why not `apt-get install -t bookworm-backports`: that upgrades libdrm, libgbm and the GL drivers the
# browser tests use. Why not bookworm's own lavapipe 22.3: Dawn rejects it.
# Usage (root, Debian bookworm): scripts/install-lavapipe.sh [DEST]   default DEST=/opt/flotilla-lavapipe
set -euo pipefail
DEST="${1:-/opt/flotilla-lavapipe}"
VERSION_RE='^25\.'
export DEBIAN_FRONTEND=noninteractive

if [ -f "$DEST/lvp_icd.json" ] && [ -f "$DEST/libvulkan_lvp.so" ]; then echo "lavapipe already in $DEST"; exit 0; fi

list=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$list"
  apt-get update -qq
fi
# The loader and the libraries lvp links against; none of these replaces an installed package.
apt-get install -y -qq --no-install-recommends libvulkan1 libllvm15 libwayland-client0 libx11-xcb1 libxcb-dri3-0 \
  libxcb-present0 libxcb-randr0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxshmfence1 libelf1 libdrm2 libdrm-amdgpu1 >/dev/null

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
version="$(apt-cache madison mesa-vulkan-drivers | awk -F'|' '/bookworm-backports/ {gsub(/ /, "", $2); print $2; exit}')"
if ! [[ "$version" =~ $VERSION_RE ]]; then echo "bookworm-backports has no mesa-vulkan-drivers 25 (found '$version')" >&2; exit 1; fi
(cd "$tmp" && chown _apt "$tmp" 2>/dev/null; apt-get download -qq "mesa-vulkan-drivers=$version")
dpkg-deb -x "$tmp"/mesa-vulkan-drivers_*.deb "$tmp/root"
mkdir -p "$DEST"
cp "$tmp/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" "$DEST/"
api="$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$tmp/root/usr/share/vulkan/icd.d/lvp_icd.json")"
printf '{"file_format_version":"1.0.0","ICD":{"api_version":"%s","library_path":"%s/libvulkan_lvp.so"}}\n' "$api" "$DEST" > "$DEST/lvp_icd.json"
echo "$version" > "$DEST/VERSION"
# Every symbol must resolve against the system libraries, or the loader would drop the driver silently.
if ldd -r "$DEST/libvulkan_lvp.so" 2>&1 | grep -E 'undefined symbol|not found'; then echo "lavapipe $version does not link here" >&2; exit 1; fi
echo "lavapipe $version installed in $DEST"
