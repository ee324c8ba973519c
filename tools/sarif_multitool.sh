#!/usr/bin/env bash
# Validate cfnaudit's SARIF with Microsoft's SARIF Multitool and GitHub's ingestion rules.
#
#   tools/sarif_multitool.sh [PATH ...]
#
# Installs @microsoft/sarif-multitool-linux with npm into .sarif-tools/ (gitignored) on first
# use, scans PATHs into one SARIF file, runs `validate --rule-kind "Sarif;Ghas"` with GitHub's rule configuration, and
# fails when the Multitool reports any error-level result. The Multitool exits 0 even when it
# finds errors, so its own output file is read instead of its exit code.
#
# Environment: PYTHON (default .venv/bin/python, else python3), SARIF_CONFIG (default
# $CFNAUDIT_SHARED/sarif/github.config.xml, CFNAUDIT_SHARED defaulting to ../shared; without
# it only the SARIF rules run).
# Exit: 0 valid, 1 the Multitool reported errors, 2 cannot run (no npm, install failed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.sarif-tools"
VERSION="5.7.0"
BINARY="$TOOLS/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
CONFIG="${SARIF_CONFIG:-${CFNAUDIT_SHARED:-$ROOT/../shared}/sarif/github.config.xml}"

if [[ ! -x "$BINARY" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "sarif_multitool: npm is not installed; cannot fetch the SARIF Multitool" >&2
    exit 2
  fi
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" \
    "@microsoft/sarif-multitool-linux@$VERSION" >&2 || { echo "sarif_multitool: npm install failed" >&2; exit 2; }
  chmod u+x "$BINARY"  # npm may skip the package's postinstall chmod
fi

cd "$ROOT"
if [[ $# -eq 0 ]]; then
  # Default: a multi-file scan with every kind of result (findings of many rules, a decode
  # error, inline and metadata suppressions, JSON and YAML), under GitHub's 1,000-results
  # display limit that the Multitool's GH1004 enforces.
  SAMPLE="$TOOLS/sample"
  mkdir -p "$SAMPLE"
  printf 'Resources:\n  Key: {Type: [\n' >"$SAMPLE/broken.yaml"
  printf '%s\n' 'Resources:' \
    '  Key:  # cfnaudit: ignore KMS001 imported key material cannot rotate' \
    '    Type: AWS::KMS::Key' \
    '    Metadata:' \
    '      cfnaudit:' \
    '        ignore: [{code: TAG, reason: "tagged by the deployment pipeline"}]' \
    >"$SAMPLE/suppressed.yaml"
  printf '%s\n' '{"Resources": {"Key": {"Type": "AWS::KMS::Key",' \
    '  "Properties": {"EnableKeyRotation": false}}}}' >"$SAMPLE/key.json"
  set -- reference_stack fixtures/model_response fixtures/rules/KMS001 fixtures/rules/GRF001 \
    "$SAMPLE"
fi
SARIF="$TOOLS/scan.sarif"
OUT="$TOOLS/validation.sarif"
status=0
"$PYTHON" -m cfnaudit scan --isolated --format sarif --output "$SARIF" "$@" || status=$?
if [[ $status -gt 2 ]]; then
  echo "sarif_multitool: cfnaudit failed with exit code $status" >&2
  exit 2
fi

# Call the binary directly: the npm shim goes through /bin/sh and splits "Sarif;Ghas" at the ';'.
args=(validate "$SARIF" --rule-kind "Sarif;Ghas" -o "$OUT" --log ForceOverwrite)
if [[ -f "$CONFIG" ]]; then args+=(--config "$CONFIG"); else
  echo "sarif_multitool: $CONFIG not found; GitHub rules GH1001-GH1007 stay off" >&2
fi
"$BINARY" "${args[@]}" >"$TOOLS/validation.log" 2>&1 || true
if [[ ! -s "$OUT" ]]; then
  cat "$TOOLS/validation.log" >&2
  echo "sarif_multitool: the Multitool wrote no result file" >&2
  exit 2
fi

"$PYTHON" - "$OUT" "$SARIF" <<'PY'
import json
import sys

out, scanned = sys.argv[1], sys.argv[2]
results = [r for run in json.load(open(out, encoding="utf-8"))["runs"]
           for r in run.get("results", [])]
runs = json.load(open(scanned, encoding="utf-8"))["runs"]
count = sum(len(run["results"]) for run in runs)
errors = 0
for r in results:
    level = r.get("level", "warning")
    text = r["message"].get("text") or ", ".join(r["message"].get("arguments", []))
    print(f"{level}: {r['ruleId']}: {text}")
    errors += level == "error"
print(f"sarif_multitool: {count} cfnaudit results checked; Multitool: {errors} error(s), "
      f"{len(results) - errors} other message(s)")
sys.exit(1 if errors else 0)
PY
