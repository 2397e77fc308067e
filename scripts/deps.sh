#!/usr/bin/env bash
# deps.sh - installs what ackbot needs to build, run and test, if missing.
# Idempotent: installs nothing when everything is present. Debian 12 (apt-get).
set -euo pipefail

pkgs=(build-essential cmake pkg-config python3 openssl ca-certificates
      libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libssl-dev
      libjansson-dev libcurl4-openssl-dev libpcre2-dev libcmocka-dev)
if [[ "${1:-}" == "--test" ]]; then
	# The test suite also needs clang (sanitizer and fuzz builds) and node
	# (fake chat servers, checked against the official client libraries).
	pkgs+=(clang valgrind nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
# A machine that has node from elsewhere (not Debian's package) is fine too.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	filtered=()
	for p in "${missing[@]}"; do
		[[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
	done
	missing=("${filtered[@]+"${filtered[@]}"}")
fi
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
