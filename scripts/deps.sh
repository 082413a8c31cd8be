#!/usr/bin/env bash
# Installs everything Tern needs to build and test, on Debian 12.
# Idempotent: packages already present are skipped, so `make run` and
# `make test` can call it every time at the cost of one dpkg query.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential pkg-config libuv1-dev libwebsockets-dev
  libwebsockets-evlib-uv libjansson-dev libssl-dev libsrtp2-dev
  libusrsctp-dev libopus-dev libvpx-dev libcairo2-dev libavformat-dev
  libavcodec-dev libavutil-dev libnats-dev)
test_pkgs=(clang libclang-rt-14-dev chromium firefox-esr pulseaudio
  iproute2 util-linux nodejs npm ffmpeg curl sox)

want=("${build_pkgs[@]}")
if [ "${1:-}" != "--build-only" ]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node/npm may come from outside Debian's packages (e.g. nodesource or a
# preinstalled toolchain); a working binary on PATH is as good as the package.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" != "--build-only" ]; then
  # Browser drivers for tests/e2e; the core packages download no browser.
  if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/puppeteer-core ] \
     || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
