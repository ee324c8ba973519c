"""The reference stack passes every rule, and every rule really looked at it."""

from __future__ import annotations

import pytest
from helpers import ROOT

from cfnaudit.api import Config, Report, audit
from cfnaudit.registry import builtin_rules_dir, load_rules

STACK = ROOT / "reference_stack"


@pytest.fixture(scope="module")
def report() -> Report:
    return audit([STACK / "pipeline.yaml", STACK / "pipeline.json"], Config())


def test_reference_stack_has_zero_findings(report: Report) -> None:
    assert [o.status for o in report.files] == ["scanned", "scanned"]
    assert [f"{f.file}:{f.location.line} {f.code} {f.message}" for f in report.findings] == []


def test_reference_stack_uses_no_suppressions(report: Report) -> None:
    for name in ("pipeline.yaml", "pipeline.json"):
        text = (STACK / name).read_text(encoding="utf-8")
        assert "cfnaudit:" not in text, "no suppression metadata or comments in the stack"
    assert all(f.suppressed is None for f in report.findings)


def test_every_rule_examined_part_of_the_stack(report: Report) -> None:
    codes = {r.code for r in load_rules([builtin_rules_dir()])}
    idle = sorted(code for code in codes if report.examined.get(code, 0) == 0)
    assert idle == [], "rules that passed vacuously on the reference stack"
