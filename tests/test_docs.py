"""The README rule catalog and docs/rules/ pages are generated from the rules' docs."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


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
