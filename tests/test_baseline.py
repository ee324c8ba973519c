"""Baselines (write, apply, stale entries, reformatting) and waivers: inline comment
suppressions, per-path ignores and `--no-suppress`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run

from cfnaudit import baseline
from cfnaudit.api import Config, audit

TWO_KEYS = """\
Resources:
  Alpha:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
  Beta:
    Type: AWS::KMS::Key
"""
# The same template reformatted: flow style, comments, blank lines, resources reordered.
TWO_KEYS_REFORMATTED = """\
# reformatted by a well-meaning colleague
Description: keys

Resources:

  Beta: {Type: "AWS::KMS::Key"}   # no properties

  Alpha:
    Type: AWS::KMS::Key
    Properties: {EnableKeyRotation: false}
"""
UNROTATED = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys.yaml").write_text(TWO_KEYS)
    (tmp_path / "other.yaml").write_text(UNROTATED)
    return tmp_path


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "scan", "--isolated", "--select", "KMS001", "--format", "json",
                       *args)
    return code, json.loads(out)


# -------------------------------------------------------------------------------- baselines


def test_write_baseline_records_active_findings_sorted(capsys: pytest.CaptureFixture[str],
                                                       repo: Path) -> None:
    code, out, err = run(capsys, "scan", "--isolated", "--select", "KMS001",
                         "--write-baseline", "base.json", ".")
    assert code == 0 and out == ""
    assert err == "cfnaudit: recorded 3 findings in base.json\n"
    document = json.loads((repo / "base.json").read_text())
    assert document["cfnaudit_baseline"] == 1
    entries = document["findings"]
    assert [(e["file"], e["resource"]) for e in entries] == [
        ("keys.yaml", "Alpha"), ("keys.yaml", "Beta"), ("other.yaml", "Key")]
    assert set(entries[0]) == {"fingerprint", "code", "file", "resource", "message"}


def test_baseline_reports_only_new_findings(capsys: pytest.CaptureFixture[str],
                                            repo: Path) -> None:
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline", "base.json", ".")
    code, document = scan(capsys, "--baseline", "base.json", ".")
    assert code == 0
    assert document["summary"]["findings"] == 0 and document["summary"]["suppressed"] == 3
    assert {f["suppressed_by"] for f in document["findings"]} == {"baseline"}
    assert document["baseline"] == {"file": "base.json", "entries": 3, "matched": 3,
                                    "stale": []}
    (repo / "keys.yaml").write_text(TWO_KEYS + "  Gamma:\n    Type: AWS::KMS::Key\n")
    code, document = scan(capsys, "--baseline", "base.json", ".")
    assert code == 1
    active = [f for f in document["findings"] if not f["suppressed"]]
    assert [f["resource"] for f in active] == ["Gamma"]


def test_baseline_survives_reformatting_and_moved_lines(capsys: pytest.CaptureFixture[str],
                                                        repo: Path) -> None:
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline", "base.json",
        "keys.yaml")
    (repo / "keys.yaml").write_text(TWO_KEYS_REFORMATTED)
    code, document = scan(capsys, "--baseline", "base.json", "keys.yaml")
    assert code == 0
    assert document["baseline"]["matched"] == 2
    lines = sorted(f["line"] for f in document["findings"])
    assert lines == [6, 10]  # both moved, both still matched


def test_stale_entries_only_for_files_scanned_or_gone(capsys: pytest.CaptureFixture[str],
                                                      repo: Path) -> None:
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline", "base.json", ".")
    (repo / "keys.yaml").write_text(TWO_KEYS.replace("false", "true"))  # Alpha fixed
    _, document = scan(capsys, "--baseline", "base.json", "keys.yaml")
    assert [e["resource"] for e in document["baseline"]["stale"]] == ["Alpha"]  # not other.yaml
    (repo / "other.yaml").unlink()
    _, document = scan(capsys, "--baseline", "base.json", "keys.yaml")
    assert [e["resource"] for e in document["baseline"]["stale"]] == ["Alpha", "Key"]
    code, out, _ = run(capsys, "scan", "--isolated", "--select", "KMS001", "--baseline",
                       "base.json", "keys.yaml")
    assert code == 0
    assert "2 baseline entries no longer match" in out
    assert "  keys.yaml  KMS001 `Alpha`" in out and "  other.yaml  KMS001 `Key`" in out


def test_each_entry_absorbs_one_finding(repo: Path) -> None:
    (finding,) = audit([repo / "other.yaml"], Config(select=("KMS001",))).findings
    entries = [baseline.entry_of(finding)]
    twin = type(finding)(**{**{s: getattr(finding, s) for s in finding.__slots__},
                            "message": finding.message + " when IsProd is false"})
    marked, outcome = baseline.apply([finding, twin], entries, "b.json", ["other.yaml"])
    assert [f.suppressed is None for f in marked] == [False, True]
    assert (outcome.matched, outcome.stale) == (1, ())


def test_template_errors_are_never_baselined(capsys: pytest.CaptureFixture[str],
                                             repo: Path) -> None:
    (repo / "broken.yaml").write_text("Resources: [\n")
    code, _, _ = run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline",
                       "base.json", ".")
    assert code == 2  # the broken file still fails the run
    entries = json.loads((repo / "base.json").read_text())["findings"]
    assert "CFA001" not in {e["code"] for e in entries} and len(entries) == 3
    code, document = scan(capsys, "--baseline", "base.json", ".")
    assert code == 2
    assert [f["code"] for f in document["findings"] if not f["suppressed"]] == ["CFA001"]


@pytest.mark.parametrize(("content", "message"), [
    (None, "missing.json: No such file or directory"),
    ("{not json", "is not valid JSON"),
    ('{"findings": []}', "is not a cfnaudit baseline"),
    ('{"cfnaudit_baseline": 1, "findings": [{"code": "X"}]}', "entry 0 lacks file"),
])
def test_unusable_baseline_exits_two(capsys: pytest.CaptureFixture[str], repo: Path,
                                     content: str | None, message: str) -> None:
    name = "missing.json" if content is None else "bad.json"
    if content is not None:
        (repo / name).write_text(content)
    code, _, err = run(capsys, "scan", "--isolated", "--baseline", name, "keys.yaml")
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_baseline_from_the_configuration_file(capsys: pytest.CaptureFixture[str],
                                              repo: Path) -> None:
    (repo / "ci").mkdir()
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline", "ci/base.json",
        ".")
    (repo / ".cfnaudit.yaml").write_text("select: [KMS001]\nbaseline: ci/base.json\n")
    code, out, _ = run(capsys, "scan", ".")
    assert code == 0 and "baseline ci/base.json: 3 of 3 entries matched" in out


# ------------------------------------------------------------------------- inline comments


def test_comment_on_the_offending_line_or_the_resource_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""\
Resources:
  Alpha:  # cfnaudit: ignore KMS001 imported key material
    Type: AWS::KMS::Key
  Beta:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false  # cfnaudit: ignore KMS - rotated by the HSM, see RUN-12
  Gamma:
    Type: AWS::KMS::Key
    Properties:  # cfnaudit: ignore KMS001 a comment on an unrelated line waives nothing
      EnableKeyRotation: false
""")
    findings = {f.resource: f for f in audit([path], Config(select=("KMS001",))).findings}
    assert findings["Alpha"].suppressed == "imported key material"
    assert findings["Alpha"].suppressed_by == "comment"
    assert findings["Beta"].suppressed == "rotated by the HSM, see RUN-12"
    assert findings["Gamma"].suppressed is None


def test_comment_without_reason_or_code_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""\
Resources:
  Alpha:  # cfnaudit: ignore KMS001
    Type: AWS::KMS::Key
  Beta:   # cfnaudit: ignore Because we said so
    Type: AWS::KMS::Key
""")
    report = audit([path], Config(select=("KMS001",)))
    got = [(f.code, f.location.line, f.location.column, f.suppressed) for f in report.findings]
    assert got == [("KMS001", 2, 3, None), ("CFA004", 2, 11, None),
                   ("KMS001", 4, 3, None), ("CFA004", 4, 11, None)]
    messages = [f.message for f in report.findings if f.code == "CFA004"]
    assert messages == ["suppression comment for KMS001 has no reason; it is ignored",
                        "suppression comment for an unnamed rule has no rule code; "
                        "it is ignored"]


def test_several_codes_in_one_comment(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  Key:  # cfnaudit: ignore GRF001, KMS001 lab account\n"
                    "    Type: AWS::KMS::Key\n")
    (finding,) = audit([path], Config(select=("KMS001",))).findings
    assert finding.suppressed == "lab account"


def test_template_errors_cannot_be_waived_by_comment(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  Key:  # cfnaudit: ignore CFA002 please\n"
                    "    Type: AWS::KMS::Key\n    Properties: {Description: !Ref Missing}\n")
    report = audit([path], Config(select=("KMS001",)))
    errors = [f for f in report.findings if f.code == "CFA002"]
    assert errors and all(f.suppressed is None for f in errors)


# ------------------------------------------------------------------------- refusing waivers


WAIVED = """\
Metadata:
  cfnaudit:
    ignore: [{code: GRF, reason: "cycles are checked elsewhere"}]
Resources:
  Alpha:  # cfnaudit: ignore KMS001 imported key material
    Type: AWS::KMS::Key
  Beta:
    Type: AWS::KMS::Key
    Metadata:
      cfnaudit:
        ignore: [{code: KMS001, reason: "legacy"}]
"""


def test_no_suppress_refuses_every_kind_of_waiver(capsys: pytest.CaptureFixture[str],
                                                  repo: Path) -> None:
    (repo / "waived.yaml").write_text(WAIVED)
    run(capsys, "scan", "--isolated", "--select", "KMS001", "--write-baseline", "base.json",
        "other.yaml")
    (repo / ".cfnaudit.yaml").write_text(
        "select: [KMS001]\nbaseline: base.json\nper_path_ignores: {'other*': [KMS]}\n")
    code, out, _ = run(capsys, "scan", "--format", "json", "waived.yaml", "other.yaml")
    assert code == 0
    assert {f["suppressed_by"] for f in json.loads(out)["findings"]} == {
        "comment", "metadata", "config"}
    code, out, _ = run(capsys, "scan", "--no-suppress", "KMS", "--format", "json",
                       "waived.yaml", "other.yaml")
    assert code == 1
    document = json.loads(out)
    assert [f["suppressed"] for f in document["findings"]] == [False, False, False]
    assert document["baseline"]["matched"] == 0
    code, _, _ = run(capsys, "scan", "--no-suppress", "GRF", "waived.yaml", "other.yaml")
    assert code == 0  # other rules' waivers still hold
