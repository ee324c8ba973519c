"""Every rule against its annotated fixtures: the exact set of (code, line) must match."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RULE_FIXTURES, expected_pairs, fixture_config

from cfnaudit.api import audit

FIXTURE_FILES = sorted(p for p in RULE_FIXTURES.glob("*/*.yaml")
                       if p.name.startswith(("fail", "pass")))


@pytest.mark.parametrize("path", FIXTURE_FILES,
                         ids=[f"{p.parent.name}/{p.name}" for p in FIXTURE_FILES])
def test_fixture_findings_match_annotations(path: Path) -> None:
    code = path.parent.name
    report = audit([path], fixture_config(path, code))
    assert [o.status for o in report.files] == ["scanned"], report.files
    broken = [f for f in report.findings if f.is_error]
    assert not broken, f"fixture is not a valid template: {broken}"
    found = {(f.code, f.location.line) for f in report.findings if f.code == code}
    expected = expected_pairs(path, code)
    if path.name.startswith("fail"):
        assert expected, f"{path} has no `# expect: {code}` annotation"
    else:
        assert not expected, f"{path} is a pass fixture but expects findings"
    assert found == expected, "\n".join(
        f"{f.location.line}: {f.message}" for f in report.findings if f.code == code)
