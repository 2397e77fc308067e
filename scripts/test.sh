#!/usr/bin/env bash
# test.sh - installs what is missing, then builds with warnings as errors and
# runs every test: cmocka units, fuzz regressions, the TOML and StackStorm
# conformance suites and the integration tests through ctest; then the same
# again in an AddressSanitizer + UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/deps.sh --test
if [[ -f tests/fakes/package.json ]]; then
	(cd tests/fakes && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== build (warnings as errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACKBOT_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs") | tee build/ctest.log

echo "== tests under AddressSanitizer + UBSan"
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DACKBOT_WERROR=ON \
	-DACKBOT_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The fake servers' own tests are Node only: running them once is enough.
(cd build-asan && ctest --output-on-failure -j"$jobs" -LE fakes) | tee build-asan/ctest.log
echo "== pure unit tests under valgrind (memcheck)"
# The modules without I/O; the I/O ones run under ASan above and the
# integration suite runs one bot session under valgrind (test_valgrind.py).
export ACKBOT_NO_JIT=1          # valgrind cannot follow PCRE2's JIT code
vg_fail=0
vg_ok=0
for t in test_toml test_config test_template test_alias test_st2_vectors \
	test_confirm test_output test_audit test_uservars test_policy test_approvals \
	test_identity_policy test_slack_text test_slack_events test_mm_events; do
	[[ -x build/$t ]] || continue
	if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"build/$t" >"build/$t.valgrind.log" 2>&1; then
		echo "valgrind: $t clean"; vg_ok=$((vg_ok + 1))
	else
		echo "valgrind: $t FAILED"; tail -40 "build/$t.valgrind.log"; vg_fail=1
	fi
done
((vg_fail == 0))
ran() { sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$1" | tail -1; }
n1=$(ran build/ctest.log); n2=$(ran build-asan/ctest.log)
echo "== all tests passed: $n1 ctest tests, $n2 again under ASan+UBSan, $vg_ok under valgrind"
echo "summary: $((n1 + n2 + vg_ok)) passed, 0 failed"
