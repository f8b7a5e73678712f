#!/bin/sh
# make test: builds with -Werror, runs the C unit tests (plain, then with
# ASan+UBSan), then the integration and browser tests (pytest, each suite
# bringing up its own stack on free loopback ports) against the ASan+UBSan
# build of the programs. The last line is
# "N passed, N failed"; the exit status is non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
out=var/test
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0

count_tap() {	# adds a TAP file's results to the totals
	p=$(grep -c '^ok ' "$1" || true)
	f=$(grep -c '^not ok ' "$1" || true)
	passed=$((passed + p))
	failed=$((failed + f))
}

for variant in rel san; do
	san=""
	[ "$variant" = san ] && san="SAN=1"
	if ! make --no-print-directory WERROR=1 $san all unit-bins >"$out/build-$variant.log" 2>&1; then
		cat "$out/build-$variant.log"
		echo "build ($variant) failed"
		failed=$((failed + 1))
		echo "$passed passed, $failed failed"
		exit 1
	fi
	for t in build/$variant/test_*; do
		[ -x "$t" ] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1 "$t" >"$out/$(basename "$t")-$variant.tap" 2>&1
		rc=$?
		count_tap "$out/$(basename "$t")-$variant.tap"
		if [ $rc -ne 0 ]; then
			echo "unit: $(basename "$t") ($variant) failed:"
			grep -v '^ok ' "$out/$(basename "$t")-$variant.tap" | head -40
			grep -q '^not ok ' "$out/$(basename "$t")-$variant.tap" || failed=$((failed + 1))
		fi
	done
done
echo "unit tests: $passed passed, $failed failed"

# The integration and browser tests run the sanitizer build of every
# program, so a memory error anywhere in a real flow fails a test.
export MPBIND_BIN="$PWD/build/san/bin"
/usr/bin/python3 -m pytest -p no:cacheprovider -q -ra --junitxml="$out/pytest.xml" \
	tests/integration tests/browser ${PYTEST_ARGS:-}
set -- $(/usr/bin/python3 - "$out/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 1)
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) + int(s.get("skipped", 0)) for s in suites)
print(tests - bad, bad if tests else max(bad, 1))
PY
)
passed=$((passed + $1))
failed=$((failed + $2))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
