#!/usr/bin/env bash
# run.sh - installs what is missing, builds, and starts ackbot on its embedded
# default: the console adapter with the example config. Extra arguments are
# passed to ackbot (for example: scripts/run.sh --config my.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target ackbot >/dev/null
if (($#)); then
	exec build/ackbot "$@"
fi
exec build/ackbot --config config/examples/ackbot.toml
