"""The README rule catalog and docs/rules/ pages are generated from the rules' docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

from cfnaudit.api import Config, audit


def test_rule_catalog_and_pages_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "rule_catalog.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, (
        f"{result.stdout}{result.stderr}run `python tools/rule_catalog.py` to regenerate")


def test_every_rule_page_link_in_the_readme_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = sorted((ROOT / "docs" / "rules").glob("*.md"))
    assert pages
    for page in pages:
        assert f"(docs/rules/{page.name})" in readme


def test_the_readme_rule_example_works_as_a_user_rule(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Writing a rule"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "pitr.py").write_text(code.group(1), encoding="utf-8")
    (tmp_path / "t.yaml").write_text(
        "Resources:\n"
        "  Plain: {Type: AWS::DynamoDB::Table}\n"
        "  Safe:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: 'true'}\n")
    report = audit([tmp_path / "t.yaml"], Config(select=("USR001",), rules_dirs=(rules,)))
    assert [(f.code, f.resource) for f in report.findings] == [("USR001", "Plain")]
