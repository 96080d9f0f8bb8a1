#!/usr/bin/env bash
# A CI job on the device (Raspberry Pi, Jetson) with only `pip install edgeaudit`: no torch, no transformers.
# Bundles come from the workstation (`edgeaudit export`); here they are compressed with every preset, audited,
# compared under gates, and reported, and every exit code is checked the way a CI pipeline reads it:
#   0 = no gate tripped, 1 = a --fail-on gate tripped, 2 = bad usage or input (or a missing extra).
#
# Usage: examples/device_ci.sh BUNDLE TWIN WORKDIR
#   BUNDLE   fp32 bundle exported on the workstation
#   TWIN     its random-init twin (edgeaudit export --random-init)
#   WORKDIR  empty folder for variants, audits and reports
# Environment: EDGEAUDIT (default: edgeaudit) is the command to run; AUDIT_ARGS narrows the audits
# (default: a quick run on 40 sentences of the built-in treebank).
set -uo pipefail

BUNDLE=${1:?usage: device_ci.sh BUNDLE TWIN WORKDIR}
TWIN=${2:?usage: device_ci.sh BUNDLE TWIN WORKDIR}
WORK=${3:?usage: device_ci.sh BUNDLE TWIN WORKDIR}
EDGEAUDIT=${EDGEAUDIT:-edgeaudit}
read -r -a AUDIT_ARGS <<< "${AUDIT_ARGS:---max-sentences 40 --min-count 5 --shuffles 3 --bootstrap 50 --folds 3}"
PRESETS=(int8-dynamic int8-dynamic-full int8-static fp16 int4)
failures=0

# expect CODE DESCRIPTION COMMAND...: run COMMAND, compare its exit code with CODE, keep going either way.
expect() {
  local want=$1 what=$2
  shift 2
  "$@" > "$WORK/last.out" 2> "$WORK/last.err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    echo "ok   $what (exit $got)"
  else
    echo "FAIL $what: exit $got, expected $want"
    sed 's/^/     | /' "$WORK/last.err" | tail -n 5
    failures=$((failures + 1))
  fi
}

mkdir -p "$WORK"
expect 0 "the device install has no torch" "${PYTHON:-python}" -c \
  "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('torch', 'transformers')))"
expect 0 "inspect the bundle" "$EDGEAUDIT" inspect "$BUNDLE"
expect 2 "export asks for the [export] extra" "$EDGEAUDIT" export "$BUNDLE" "$WORK/not-exported"
grep -q "edgeaudit\[export\]" "$WORK/last.err" || { echo "FAIL export's message does not name the [export] extra"; failures=$((failures + 1)); }

for preset in "${PRESETS[@]}"; do
  extra=()
  [ "$preset" = int8-static ] && extra=(--calibration builtin:treebank --calibration-limit 16)
  expect 0 "compress --preset $preset" "$EDGEAUDIT" compress "$BUNDLE" "$WORK/$preset" --preset "$preset" \
    "${extra[@]}" --quiet
done
expect 2 "compress with an unknown preset" "$EDGEAUDIT" compress "$BUNDLE" "$WORK/bad" --preset int9

expect 0 "audit fp32" "$EDGEAUDIT" audit "$BUNDLE" --twin "$TWIN" --out "$WORK/audit-fp32" --quiet "${AUDIT_ARGS[@]}"
expect 0 "audit int8-dynamic-full" "$EDGEAUDIT" audit "$WORK/int8-dynamic-full" --out "$WORK/audit-int8" --quiet \
  "${AUDIT_ARGS[@]}"

# Gates: one that holds, one that trips, one that does not parse.
expect 0 "compare, a gate that holds" "$EDGEAUDIT" compare "$WORK/audit-fp32" "$WORK/audit-int8" \
  --out "$WORK/compare-pass" --fail-on "flips>1000" --quiet
expect 1 "compare, a gate that trips" "$EDGEAUDIT" compare "$WORK/audit-fp32" "$WORK/audit-int8" \
  --out "$WORK/compare-trip" --fail-on "output_cosine<1.5" --quiet
expect 2 "compare, a gate that does not parse" "$EDGEAUDIT" compare "$WORK/audit-fp32" "$WORK/audit-int8" \
  --out "$WORK/compare-bad" --fail-on "flips>>0" --quiet

expect 0 "report the audit" "$EDGEAUDIT" report "$WORK/audit-fp32/audit.json" --html "$WORK/audit.html" --md "$WORK/audit.md"
expect 0 "report the comparison" "$EDGEAUDIT" report "$WORK/compare-pass/compare.json" --html "$WORK/compare.html"
for page in audit.html audit.md compare.html; do
  [ -s "$WORK/$page" ] || { echo "FAIL $page was not written"; failures=$((failures + 1)); }
done

if [ "$failures" -gt 0 ]; then
  echo "device CI: $failures check(s) failed"
  exit 1
fi
echo "device CI: all checks passed"
