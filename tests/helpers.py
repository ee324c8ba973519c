"""Shared test helpers: scanning snippets and reading fixture annotations."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cfnaudit.api import Config, Report, audit
from cfnaudit.cli import main
from cfnaudit.decode import decode_text
from cfnaudit.graph import ResourceGraph
from cfnaudit.intrinsics import Scenarios
from cfnaudit.rule import Context, Rule, Severity
from cfnaudit.template import Template, build_template

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
RULE_FIXTURES = FIXTURES / "rules"
# Material that is not part of the project (a corpus of real templates, the SARIF schema and
# checkers) lives beside the checkout in ../shared. A fresh clone has none of it: every test
# that uses it goes through these names and skips with a reason when it is absent.
# CFNAUDIT_SHARED points elsewhere (CI sets it to an empty folder to prove the suite passes
# without it).
SHARED = Path(os.environ.get("CFNAUDIT_SHARED") or ROOT.parent / "shared")
CORPUS = SHARED / "corpus"
SHARED_SARIF = SHARED / "sarif"
HAS_CORPUS = (CORPUS / "MANIFEST.tsv").is_file()
needs_corpus = pytest.mark.skipif(
    not HAS_CORPUS, reason=f"no shared corpus at {CORPUS} (set CFNAUDIT_SHARED)")

ANNOTATION = re.compile(r"#\s*(expect|ok):\s*([A-Z]{2,4}\d{3})")
OPTION = re.compile(r"^#\s*option:\s*([A-Z]{2,4}\d{3})\.(\w+)=(.*)$", re.MULTILINE)
PARAM = re.compile(r"^#\s*param:\s*(\w+)=(.*)$", re.MULTILINE)


def template_from(text: str, file: str = "t.yaml") -> Template:
    return build_template(decode_text(textwrap.dedent(text)), file)


def context_from(text: str) -> Context:
    """A rule context over a snippet, for testing what the core answers rules (roles...)."""
    template = template_from(text)
    meta = Rule(code="TST001", name="t", severity=Severity.INFO, category="s3-versioning",
                docs="", check=None)
    return Context(template, ResourceGraph(template), {}, meta, Scenarios(template))


def scan_text(tmp_path: Path, text: str, name: str = "t.yaml", **config: Any) -> Report:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return audit([path], Config(**config))


def expected_pairs(path: Path, code: str) -> set[tuple[str, int]]:
    """(code, line) for every `# expect: CODE` comment naming `code`."""
    pairs = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for kind, named in ANNOTATION.findall(line):
            if kind == "expect" and named == code:
                pairs.add((named, number))
    return pairs


def fixture_config(path: Path, code: str) -> Config:
    """`# option: CODE.key=value` and `# param: Name=value` header lines configure a fixture."""
    text = path.read_text(encoding="utf-8")
    options: dict[str, dict[str, Any]] = {}
    for rule_code, key, value in OPTION.findall(text):
        options.setdefault(rule_code, {})[key] = value.strip()
    params = {name: value.strip() for name, value in PARAM.findall(text)}
    return Config(select=(code,), options=options, parameters=params)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err
