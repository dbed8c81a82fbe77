#!/usr/bin/env bash
# Validates a SARIF file offline with the two official checks; exit 0 only if both pass.
#   1. the OASIS SARIF 2.1.0 JSON schema (tools/sarif/oasis-sarif-schema-2.1.0.json), with Python's
#      jsonschema (ajv cannot compile the schema's Python-style `language` regex);
#   2. Microsoft's SARIF multitool with the SARIF and GitHub rule sets, GH1001-GH1007 switched on by
#      tools/sarif/gh-strict.xml (what GitHub code scanning needs: locations, regions, relative URIs).
# The multitool exits 0 even when it finds errors, so its own SARIF output is read back and any
# `error` result fails the check.
# Usage: scripts/validate-sarif.sh FILE.sarif
# Tools: PYTHON (default .venv/bin/python) with jsonschema; MULTITOOL (default the npm install under .tools).
set -u
file=${1:?usage: validate-sarif.sh FILE.sarif}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
multitool=${MULTITOOL:-$root/.tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool}
for tool in "$python" "$multitool"; do
  [ -x "$tool" ] || { echo "validate-sarif: $tool is missing (run: make tools)" >&2; exit 2; }
done
"$python" -W ignore -m jsonschema -i "$file" "$root/tools/sarif/oasis-sarif-schema-2.1.0.json" \
  || { echo "validate-sarif: schema check failed: $file" >&2; exit 1; }
out=$(mktemp --suffix=.sarif)
trap 'rm -f "$out"' EXIT
# Called directly, not through the npm wrapper: the wrapper hands "Sarif;Gh" to a shell, which splits it at ';'.
"$multitool" validate "$file" -o "$out" --log ForceOverwrite --rule-kind "Sarif;Gh" -c "$root/tools/sarif/gh-strict.xml" >/dev/null 2>&1
"$python" - "$out" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
errors = [r for r in run.get("results", []) if r.get("level", "warning") == "error"]
engine_ok = all(i.get("executionSuccessful") for i in run.get("invocations", []))
for r in errors[:20]:
    print("validate-sarif:", r.get("ruleId"), r.get("message", {}).get("text", "")[:300], file=sys.stderr)
if not engine_ok:
    print("validate-sarif: the multitool did not run to completion", file=sys.stderr)
sys.exit(1 if errors or not engine_ok else 0)
PY
