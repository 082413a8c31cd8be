#!/usr/bin/env bash
# CPU per composited frame (video-compositing): builds bench/compositing.c
# against build/libtern.a and runs it. Usage: bench/compositing.sh [frames]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/libtern.a
PKGS="libuv libwebsockets jansson openssl libsrtp2 usrsctp opus vpx cairo libavformat libavcodec libavutil"
EXTRA=$(pkg-config --exists libnats && echo libnats || true)
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Isrc $(pkg-config --cflags $PKGS $EXTRA) \
  -o build/bench-compositing bench/compositing.c build/libtern.a $(pkg-config --libs $PKGS $EXTRA) -lm
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
build/bench-compositing "${1:-300}"
