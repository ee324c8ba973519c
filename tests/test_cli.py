"""The command line: exit codes, skipped files, JSON shape, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run

CLEAN = ("Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
         "      EnableKeyRotation: true\n")
UNROTATED = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "clean.yaml").write_text(CLEAN)
    (tmp_path / "flawed.yaml").write_text(UNROTATED)
    (tmp_path / "broken.yaml").write_text("Resources:\n  Key: {Type: [\n")
    (tmp_path / "workflow.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "hooks.yaml").write_text("- id: x\n  name: y\n")
    return tmp_path


def test_clean_template_exits_zero(capsys: pytest.CaptureFixture[str], files: Path) -> None:
    code, out, _ = run(capsys, "scan", "--select", "KMS001", str(files / "clean.yaml"))
    assert code == 0
    assert "1 file scanned; 0 findings" in out


def test_findings_exit_one_and_show_the_line(capsys: pytest.CaptureFixture[str],
                                             files: Path) -> None:
    code, out, _ = run(capsys, "scan", "--select", "KMS001", str(files / "flawed.yaml"))
    assert code == 1
    assert "2:3" in out and "KMS001" in out and "│ Key:" in out


def test_fail_on_error_ignores_warnings_and_info(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "Metadata:\n  cfnaudit:\n    ignore: [{code: KMS001}]\n" + CLEAN)
    only = ("--select", "KMS001")
    # CFA004 (a suppression without a reason) is a warning: it fails only with --fail-on warning
    assert run(capsys, "scan", *only, "--fail-on", "warning", str(tmp_path / "t.yaml"))[0] == 1
    assert run(capsys, "scan", *only, "--fail-on", "error", str(tmp_path / "t.yaml"))[0] == 0


def test_by_default_medium_warns_and_low_informs_without_failing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # TAG001 (Medium: warning) and NAM001 (Low: info) are reported; only Critical/High fail.
    (tmp_path / "t.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
                                     "    Properties: {QueueName: fixed-name}\n")
    code, out, _ = run(capsys, "scan", "--select", "TAG001,NAM001", str(tmp_path / "t.yaml"))
    assert code == 0
    assert "TAG001" in out and "NAM001" in out
    assert run(capsys, "scan", "--select", "TAG001", "--fail-on", "warning",
               str(tmp_path / "t.yaml"))[0] == 1


def test_broken_file_exits_two_and_others_are_still_reported(
        capsys: pytest.CaptureFixture[str], files: Path) -> None:
    code, out, err = run(capsys, "scan", "--select", "KMS001", str(files))
    assert code == 2
    assert "broken.yaml" in out and "CFA001" in out and "2:" in out
    assert "flawed.yaml" in out
    assert "Traceback" not in out + err


def test_non_templates_are_skipped_quietly(capsys: pytest.CaptureFixture[str],
                                           files: Path) -> None:
    code, out, err = run(capsys, "scan", str(files / "workflow.yml"), str(files / "hooks.yaml"))
    assert code == 0
    assert "2 skipped" in out and err == ""
    code, _, err = run(capsys, "scan", "-v", str(files / "workflow.yml"))
    assert "skipped" in err and "not a CloudFormation template" in err


@pytest.mark.parametrize("args", [
    ["scan"],
    ["scan", "--fail-on", "fatal", "x.yaml"],
    ["scan", "--select", "NOPE999", "x.yaml"],
    ["scan", "--option", "KMS001", "x.yaml"],
    ["scan", "--option", "KMS001.nope=1", "x.yaml"],
    ["nosuchcommand"],
    ["explain", "ZZZ999"],
])
def test_usage_errors_exit_two_with_one_line(capsys: pytest.CaptureFixture[str],
                                              args: list[str]) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith("cfnaudit: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err


def test_json_output_shape(capsys: pytest.CaptureFixture[str], files: Path) -> None:
    code, out, _ = run(capsys, "scan", "--format", "json", "--select", "KMS001",
                       str(files / "flawed.yaml"), str(files / "broken.yaml"))
    assert code == 2
    document = json.loads(out)
    assert document["schema_version"] == 1
    assert document["summary"]["findings"] == 2
    flawed = next(f for f in document["findings"] if f["code"] == "KMS001")
    assert set(flawed) >= {"code", "name", "severity", "category", "message", "file",
                           "resource", "path", "line", "column", "end_line", "end_column",
                           "fingerprint", "suppressed", "suppression_reason"}
    assert (flawed["resource"], flawed["path"], flawed["line"], flawed["suppressed"]) == (
        "Key", ["Resources", "Key"], 2, False)
    broken = next(f for f in document["findings"] if f["code"] == "CFA001")
    assert broken["category"] == "decode-error" and broken["resource"] is None


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert any(line.startswith("KMS001") and "kms-rotation" in line
               for line in out.splitlines())
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert {"code": "GRF001"}.items() <= next(
        r for r in json.loads(out) if r["code"] == "GRF001").items()


def test_explain_prints_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "kms001")
    assert code == 0
    assert out.startswith("# KMS001 kms-key-rotation")
    assert "## Why is this bad?" in out


def test_python_dash_m_version() -> None:
    result = subprocess.run([sys.executable, "-m", "cfnaudit", "--version"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("cfnaudit, version ")


def test_internal_errors_show_a_traceback_only_with_debug(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "crash.py").write_text(
        "from cfnaudit.rule import Severity, rule\n"
        "@rule(code='USR001', name='crash', severity=Severity.ERROR, category='outputs')\n"
        "def crash(ctx):\n    '''Crashes.'''\n    raise RuntimeError('rule bug')\n")
    (tmp_path / "t.yaml").write_text(CLEAN)
    base = [sys.executable, "-m", "cfnaudit", "scan", "--rules-dir", str(rules),
            "--select", "USR001", str(tmp_path / "t.yaml")]
    quiet = subprocess.run(base, capture_output=True, text=True, check=False)
    assert quiet.returncode == 2
    assert "USR001 (crash) crashed: RuntimeError: rule bug" in quiet.stdout
    assert "Traceback" not in quiet.stdout + quiet.stderr
    loud = subprocess.run([*base, "--debug"], capture_output=True, text=True, check=False)
    assert loud.returncode != 0 and "Traceback" in loud.stderr
