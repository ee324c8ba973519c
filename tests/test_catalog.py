"""The built-in rule catalog: codes, categories, docs, examples, fixtures, imports."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from helpers import RULE_FIXTURES

from cfnaudit.api import Config, audit
from cfnaudit.categories import CATEGORIES, RANK_EXCEPTIONS, RANK_SEVERITY, SEED_RANKS, seed_rank
from cfnaudit.registry import builtin_rules_dir, load_rules
from cfnaudit.rule import CODE_PATTERN, DOC_SECTIONS, Rule

RULES = load_rules([builtin_rules_dir()])
IDS = [r.code for r in RULES]
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def test_codes_are_unique_and_well_formed() -> None:
    assert len(IDS) == len(set(IDS))
    assert all(CODE_PATTERN.match(code) for code in IDS)
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_category_is_a_known_failure_class(rule: Rule) -> None:
    assert rule.category in CATEGORIES


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_default_severity_is_the_seed_rank_of_its_failures(rule: Rule) -> None:
    rank = seed_rank(rule.code, rule.category)
    assert rank is not None, f"category {rule.category} has no seed rank"
    assert rule.severity.value == RANK_SEVERITY[rank], f"{rule.code} is {rank}"


def test_every_rule_category_has_exactly_one_rank() -> None:
    ranked = [c for members in SEED_RANKS.values() for c in members]
    assert len(ranked) == len(set(ranked))
    assert {r.category for r in RULES} <= set(ranked)
    assert set(ranked) <= set(CATEGORIES)
    assert set(RANK_EXCEPTIONS) <= set(IDS)


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_docs_have_every_section(rule: Rule) -> None:
    summary = rule.summary
    assert summary and summary.endswith("."), f"summary line: {summary!r}"
    assert not summary.lower().startswith("ensure"), "summaries state the problem"
    positions = [rule.docs.find(section) for section in DOC_SECTIONS]
    assert all(p >= 0 for p in positions), f"missing sections in {rule.code}"
    assert positions == sorted(positions), "sections out of order"


def _section(docs: str, title: str) -> str:
    start = docs.index(title) + len(title)
    following = docs.find("\n## ", start)
    return docs[start:following if following >= 0 else None]


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_doc_examples_really_fail_and_pass(rule: Rule, tmp_path: Path) -> None:
    for title, should_fire in (("## Example", True), ("## Use instead", False)):
        blocks = YAML_BLOCK.findall(_section(rule.docs, title))
        assert blocks, f"{rule.code}: {title} has no yaml block"
        for i, block in enumerate(blocks):
            path = tmp_path / f"{'fail' if should_fire else 'pass'}{i}.yaml"
            path.write_text(block, encoding="utf-8")
            report = audit([path], Config(select=(rule.code,)))
            assert not [f for f in report.findings if f.is_error], report.findings
            codes = {f.code for f in report.findings}
            assert (rule.code in codes) == should_fire, (title, report.findings)


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_every_rule_has_fail_and_pass_fixtures(rule: Rule) -> None:
    folder = RULE_FIXTURES / rule.code
    assert list(folder.glob("fail*.yaml")), f"no fail fixture for {rule.code}"
    assert list(folder.glob("pass*.yaml")), f"no pass fixture for {rule.code}"


def test_no_orphan_fixtures() -> None:
    orphans = {p.name for p in RULE_FIXTURES.iterdir() if p.is_dir()} - set(IDS)
    assert not orphans


def test_rule_files_import_only_the_rule_api() -> None:
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(builtin_rules_dir().glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert module == "cfnaudit.rule" or (top in stdlib and top != "cfnaudit"), (
                    f"{path.name} imports {module}")
