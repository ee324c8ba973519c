"""The engine: crashing rules, suppressions, fingerprints, ordering."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from helpers import scan_text, template_from

from cfnaudit.api import Config, audit
from cfnaudit.engine import run_rules
from cfnaudit.rule import Context, Rule, Severity, Violation

UNROTATED = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
"""


def _crash(ctx: Context) -> Iterator[Violation]:
    raise KeyError("boom")


def _every_queue(ctx: Context) -> Iterator[Violation]:
    for queue in ctx.resources("AWS::SQS::Queue"):
        yield Violation(f"Queue `{queue.logical_id}` is a queue", queue.path)


CRASHER = Rule("TST001", "crasher", Severity.ERROR, "internal-error", "Crashes.", _crash)
QUEUES = Rule("TST002", "every-queue", Severity.WARNING, "sqs-redrive", "Queues.", _every_queue)


def test_a_crashing_rule_becomes_one_finding_and_others_still_run() -> None:
    template = template_from("Resources:\n  Q: {Type: AWS::SQS::Queue}\n")
    result = run_rules(template, [CRASHER, QUEUES])
    assert [(f.code, f.category) for f in result.findings] == [
        ("CFA003", "internal-error"), ("TST002", "sqs-redrive")]
    assert "TST001 (crasher) crashed: KeyError: 'boom'" in result.findings[0].message
    assert result.findings[0].is_error


def test_resource_suppression_with_reason_keeps_the_finding_marked(tmp_path: Path) -> None:
    report = scan_text(tmp_path, """
        Resources:
          Key:
            Type: AWS::KMS::Key
            Metadata:
              cfnaudit:
                ignore:
                  - {code: KMS001, reason: "imported key material cannot rotate"}
            Properties:
              EnableKeyRotation: false
    """, select=("KMS001",))
    (finding,) = report.findings
    assert finding.suppressed == "imported key material cannot rotate"
    assert report.active == ()
    assert report.exit_code(Severity.WARNING) == 0


def test_suppression_without_reason_is_itself_a_finding(tmp_path: Path) -> None:
    report = scan_text(tmp_path, """
        Metadata:
          cfnaudit:
            ignore:
              - code: GRF001
        Resources:
          Key:
            Type: AWS::KMS::Key
            Metadata:
              cfnaudit:
                ignore: [{code: KMS001, reason: "  "}]
            Properties:
              EnableKeyRotation: false
    """, select=("KMS001",))
    codes = [(f.code, f.location.line, f.suppressed) for f in report.findings]
    assert codes == [("CFA004", 5, None), ("CFA004", 11, None), ("KMS001", 13, None)]


def test_template_level_suppression_and_code_prefixes(tmp_path: Path) -> None:
    report = scan_text(tmp_path, """
        Metadata:
          cfnaudit:
            ignore: [{code: KMS, reason: "keys are managed by the platform team"}]
        Resources:
          Key: {Type: AWS::KMS::Key}
    """, select=("KMS001",))
    assert [f.suppressed for f in report.findings] == ["keys are managed by the platform team"]


def test_fingerprints_do_not_change_when_lines_move(tmp_path: Path) -> None:
    before = scan_text(tmp_path, UNROTATED, select=("KMS001",)).findings
    moved = "Description: moved\nMetadata:\n  Note: three lines above\n" + UNROTATED
    after = scan_text(tmp_path, moved, select=("KMS001",)).findings
    assert before[0].location.line + 3 == after[0].location.line
    assert before[0].fingerprint == after[0].fingerprint


def test_fingerprints_differ_by_resource_and_path(tmp_path: Path) -> None:
    report = scan_text(tmp_path, UNROTATED + """
  Other:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
""", select=("KMS001",))
    assert len({f.fingerprint for f in report.findings}) == 2


def test_output_is_sorted_and_deterministic(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(UNROTATED)
    (tmp_path / "a.yaml").write_text(UNROTATED + "  Q:\n    Type: AWS::SQS::Queue\n")
    config = Config(select=("KMS001",))
    first = audit([tmp_path / "b.yaml", tmp_path / "a.yaml"], config)
    second = audit([tmp_path], config)
    assert [f.file.rsplit("/", 1)[-1] for f in first.findings] == ["a.yaml", "b.yaml"]
    assert first.findings == second.findings
    keys = [f.sort_key for f in first.findings]
    assert keys == sorted(keys)


def test_a_broken_file_does_not_lose_other_results(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("Resources:\n  A: [unclosed\n")
    (tmp_path / "good.yaml").write_text(UNROTATED)
    report = audit([tmp_path], Config(select=("KMS001",)))
    assert [(f.file.rsplit("/", 1)[-1], f.code) for f in report.findings] == [
        ("bad.yaml", "CFA001"), ("good.yaml", "KMS001")]
    assert report.exit_code(Severity.WARNING) == 2


def test_structure_errors_are_template_errors_and_rules_still_run(tmp_path: Path) -> None:
    report = scan_text(tmp_path, UNROTATED + """
  NoType:
    Properties: {}
  BadProps:
    Type: AWS::SQS::Queue
    Properties: not-a-mapping
""", select=("KMS001",))
    assert [(f.code, f.message) for f in report.findings] == [
        ("KMS001", "Key `Key` does not rotate its key material (`EnableKeyRotation` is false)"),
        ("CFA002", "resource `NoType` has no `Type`"),
        ("CFA002", "`Properties` of `BadProps` must be a mapping"),
    ]
