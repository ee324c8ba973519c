"""SARIF 2.1.0 output: the official schema, GitHub's ingestion rules, the SARIF Multitool, and
the details code scanning relies on (rules, levels, locations, fingerprints, suppressions)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import SHARED, SHARED_SARIF, run

from cfnaudit.engine import ENGINE_RULES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = SHARED_SARIF / "sarif-schema-2.1.0.json"
GITHUB_CHECK = SHARED_SARIF / "github_sarif_check.py"
SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "sarif_shape.json"

UNROTATED = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
MIXED = """\
Resources:
  Open:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
  Legacy:  # cfnaudit: ignore KMS001 imported key material cannot rotate
    Type: AWS::KMS::Key
  Platform:
    Type: AWS::KMS::Key
    Metadata:
      cfnaudit:
        ignore: [{code: KMS, reason: "managed by the platform team"}]
"""
CLEAN_JSON = '{"Resources": {"Key": {"Type": "AWS::KMS::Key", ' \
             '"Properties": {"EnableKeyRotation": true}}}}\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository-like folder (the working directory) with several kinds of files."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mixed stack.yaml").write_text(MIXED)
    (tmp_path / "templates" / "clean.json").write_text(CLEAN_JSON)
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "nested" / "deeper" / "key.template").write_text(UNROTATED)
    (tmp_path / "broken.yaml").write_text("Resources:\n  Key: {Type: [\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def scan_sarif(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "scan", "--isolated", "--select", "KMS001", "--format", "sarif",
                       *extra, ".")
    return code, json.loads(out)


def test_multi_file_scan_matches_the_official_schema(capsys: pytest.CaptureFixture[str],
                                                     project: Path) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"{SHARED_SARIF} is not available (set CFNAUDIT_SHARED)")
    import jsonschema

    code, document = scan_sarif(capsys)
    assert code == 2  # the broken file
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    errors = list(validator_class(schema).iter_errors(document))
    assert errors == [], [e.message for e in errors[:5]]
    assert len(document["runs"][0]["results"]) == 5


def test_github_ingestion_check_finds_no_error(capsys: pytest.CaptureFixture[str],
                                               project: Path) -> None:
    if not GITHUB_CHECK.exists():
        pytest.skip(f"{SHARED_SARIF} is not available (set CFNAUDIT_SHARED)")
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--format", "sarif",
        "-o", "out.sarif", ".")
    checked = subprocess.run([sys.executable, str(GITHUB_CHECK), "out.sarif"],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    assert "0 error(s)" in checked.stdout
    warnings = [line for line in checked.stdout.splitlines() if ": warning: " in line]
    # The only warning: primaryLocationLineHash is left to GitHub's upload action (see sarif.py).
    assert all("primaryLocationLineHash" in line for line in warnings), warnings


def test_driver_lists_every_rule_that_ran_and_the_engine_rules(
        capsys: pytest.CaptureFixture[str], project: Path) -> None:
    _, document = scan_sarif(capsys)
    run_ = document["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "cfnaudit"
    assert driver["version"] == driver["semanticVersion"]
    assert driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted({"KMS001", *(r.code for r in ENGINE_RULES)})
    for result in run_["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    rotation = driver["rules"][ids.index("KMS001")]
    assert rotation["name"] == "kms-key-rotation"
    assert rotation["defaultConfiguration"] == {"level": "error"}
    assert rotation["properties"]["tags"] == ["kms-rotation", "security"]
    assert 0 < float(rotation["properties"]["security-severity"]) <= 10
    assert rotation["shortDescription"]["text"].endswith(".")
    assert rotation["fullDescription"]["text"].startswith("Checks that every symmetric")
    assert "## Why is this bad?" in rotation["help"]["markdown"]
    assert rotation["help"]["text"]
    assert rotation["helpUri"].endswith("/docs/rules/KMS001.md")
    engine = driver["rules"][ids.index("CFA001")]
    assert "security-severity" not in engine["properties"]
    assert engine["properties"]["tags"] == ["decode-error"]


def _results(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["runs"][0]["results"])


def test_results_locations_levels_and_messages(capsys: pytest.CaptureFixture[str],
                                               project: Path) -> None:
    _, document = scan_sarif(capsys, "--sarif-category", "templates")
    run_ = document["runs"][0]
    assert run_["columnKind"] == "unicodeCodePoints"
    assert run_["automationDetails"] == {"id": "templates/"}
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    by_place = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"]): r
                for r in _results(document)}
    assert set(by_place) == {("broken.yaml", 3), ("nested/deeper/key.template", 2),
                             ("templates/mixed%20stack.yaml", 5),
                             ("templates/mixed%20stack.yaml", 6),
                             ("templates/mixed%20stack.yaml", 8)}
    open_key = by_place[("templates/mixed%20stack.yaml", 5)]
    assert open_key["level"] == "error"
    assert "`Open`" in open_key["message"]["text"]
    location = open_key["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert location["physicalLocation"]["region"] == {
        "startLine": 5, "startColumn": 7, "endLine": 5, "endColumn": 31}
    assert location["logicalLocations"] == [{
        "name": "Open", "kind": "resource",
        "fullyQualifiedName": "Resources.Open.Properties.EnableKeyRotation"}]
    assert set(open_key["partialFingerprints"]) == {"cfnaudit/v1"}
    assert "suppressions" not in open_key
    decode = by_place[("broken.yaml", 3)]
    assert decode["ruleId"] == "CFA001" and decode["level"] == "error"
    assert decode["message"]["text"]


def test_suppressed_findings_carry_the_reason(capsys: pytest.CaptureFixture[str],
                                              project: Path) -> None:
    (project / ".cfnaudit.yaml").write_text(
        "select: [KMS001]\nper_path_ignores:\n  'nested/**': [KMS001]\n")
    _, out, _ = run(capsys, "scan", "--format", "sarif", ".")
    results = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"]):
               r.get("suppressions") for r in _results(json.loads(out))}
    assert results[("templates/mixed%20stack.yaml", 6)] == [{
        "kind": "inSource", "status": "accepted",
        "justification": "imported key material cannot rotate"}]
    assert results[("templates/mixed%20stack.yaml", 8)] == [{
        "kind": "inSource", "status": "accepted",
        "justification": "managed by the platform team"}]
    (external,) = results[("nested/deeper/key.template", 2)]
    assert external["kind"] == "external"
    assert external["justification"].startswith("per-path ignore `nested/**` in ")
    assert results[("templates/mixed%20stack.yaml", 5)] is None


def test_fingerprints_survive_moved_lines(capsys: pytest.CaptureFixture[str],
                                          project: Path) -> None:
    def fingerprints() -> dict[str, tuple[int, str]]:
        _, document = scan_sarif(capsys)
        return {r["message"]["text"]: (
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["cfnaudit/v1"]) for r in _results(document)
            if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "templates/mixed%20stack.yaml"}

    before = fingerprints()
    stack = project / "templates" / "mixed stack.yaml"
    stack.write_text("Description: three new lines\nMetadata:\n  Note: above\n" + MIXED)
    after = fingerprints()
    assert before.keys() == after.keys() and len(before) == 3
    for message, (line, fingerprint) in before.items():
        assert after[message] == (line + 3, fingerprint)


def test_baseline_state_marks_new_and_unchanged(capsys: pytest.CaptureFixture[str],
                                                project: Path) -> None:
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline", "base.json",
        "templates")
    (project / "templates" / "new.yaml").write_text(UNROTATED)
    _, document = scan_sarif(capsys, "--baseline", "base.json")
    states = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               r["baselineState"], "suppressions" in r) for r in _results(document)}
    assert ("templates/mixed%20stack.yaml", "unchanged", True) in states
    assert ("templates/new.yaml", "new", False) in states


def _normalise(value: Any, key: str = "") -> Any:
    """The shape without what changes on its own: versions, the checkout path, rule docs."""
    if isinstance(value, dict):
        return {k: _normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, key) for v in value]
    if key in {"version", "semanticVersion", "uri"} and isinstance(value, str) \
            and (key != "uri" or value.startswith("file:")):
        return f"<{key}>"
    if key in {"text", "markdown"} and isinstance(value, str) and len(value) > 120:
        return "<docs>"
    return value


def test_sarif_shape_snapshot(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    _, document = scan_sarif(capsys)
    document["runs"][0]["tool"]["driver"]["rules"] = [
        {**r, "fullDescription": {"text": "<text>"}, "shortDescription": {"text": "<text>"}}
        for r in document["runs"][0]["tool"]["driver"]["rules"]]
    for result in document["runs"][0]["results"]:
        if result["ruleId"] == "CFA001":  # the decoder's wording is not this test's subject
            result["message"]["text"] = "<decoder message>"
            result["partialFingerprints"]["cfnaudit/v1"] = "<hash of the message>"
    shape = json.dumps(_normalise(document), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(shape, encoding="utf-8")
    assert SNAPSHOT.exists(), "run with UPDATE_SNAPSHOTS=1 once to record the snapshot"
    assert shape == SNAPSHOT.read_text(encoding="utf-8")


@pytest.mark.slow
def test_sarif_multitool_reports_no_error() -> None:
    """Microsoft's SARIF Multitool with GitHub's rules (tools/sarif_multitool.sh): needs npm
    and the shared SARIF folder; CI has both."""
    if shutil.which("npm") is None or not SHARED_SARIF.exists():
        pytest.skip(f"npm or {SHARED_SARIF} is not available")
    checked = subprocess.run(["bash", str(ROOT / "tools" / "sarif_multitool.sh")], cwd=ROOT,
                             capture_output=True, text=True, timeout=900, check=False,
                             env={**os.environ, "PYTHON": sys.executable,
                                  "CFNAUDIT_SHARED": str(SHARED)})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Multitool: 0 error(s)" in checked.stdout
