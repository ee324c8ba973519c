"""Render the rule catalog from the rules' own docs: the README table and docs/rules/CODE.md,
and the README table of severities by seed rank (cfnaudit/categories.py).

    python tools/rule_catalog.py          # rewrite
    python tools/rule_catalog.py --check  # exit 1 when README.md or docs/rules/ are stale
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cfnaudit.categories import (  # noqa: E402  # imported after the path is set
    RANK_EXCEPTIONS,
    RANK_SEVERITY,
    SEED_RANKS,
)
from cfnaudit.engine import ENGINE_RULES  # noqa: E402  # imported after the path is set
from cfnaudit.registry import load_rules  # noqa: E402  # imported after the path is set
from cfnaudit.rule import Rule  # noqa: E402  # imported after the path is set

START, END = "<!-- rule-catalog -->", "<!-- /rule-catalog -->"
RANKS_START, RANKS_END = "<!-- severity-ranks -->", "<!-- /severity-ranks -->"
SEED_WORDS = {
    "Critical": "security configuration gaps, missing encryption controls",
    "High": "incomplete monitoring, inadequate error handling",
    "Medium": "performance and cost optimisation, tagging; also data lifecycle and resilience",
    "Low": "resource naming conventions, documentation gaps",
}
EFFECT = {"error": "fails the build", "warning": "warns; fails only with `--fail-on warning`",
          "info": "information; fails only with `--fail-on info`"}
DOCS = ROOT / "docs" / "rules"


def rule_page(rule: Rule) -> str:
    options = "".join(f"- `{key}`: default `{value!r}`\n" for key, value in rule.options.items())
    header = (f"# {rule.code} {rule.name}\n\n"
              f"Severity: **{rule.severity.value}** · Category: `{rule.category}`"
              + (" · security" if rule.security else "") + "\n\n")
    body = rule.docs.strip() + "\n"
    if options:
        body += f"\n## Option defaults\n\n{options}"
    return header + body


def catalog(rules: list[Rule]) -> str:
    rows = [f"| [{r.code}](docs/rules/{r.code}.md) | `{r.name}` | {r.severity.value} | "
            f"`{r.category}` | {r.summary} |" for r in rules]
    return "\n".join([
        START,
        "## Rule catalog",
        "",
        f"{len(rules)} rules, generated from the rules' docs by `tools/rule_catalog.py`; "
        "`cfnaudit explain CODE` prints the full page.",
        "",
        "| code | name | severity | category | summary |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        END,
    ])


def severity_ranks(rules: list[Rule]) -> str:
    rows = []
    for rank, categories in SEED_RANKS.items():
        severity = RANK_SEVERITY[rank]
        codes = [r.code for r in rules if r.category in categories
                 and r.code not in RANK_EXCEPTIONS]
        codes += [code for code, (other, _) in RANK_EXCEPTIONS.items() if other == rank]
        rows.append(f"| {rank} | {SEED_WORDS[rank]} | {severity} | {EFFECT[severity]} | "
                    + ", ".join(f"`{c}`" for c in categories) + " | "
                    + ", ".join(sorted(codes)) + " |")
    exceptions = [f"- {code} is {rank}: {why}." for code, (rank, why) in RANK_EXCEPTIONS.items()]
    return "\n".join([
        RANKS_START,
        "| seed rank | what the seed ranks there | severity | default build effect "
        "| categories | rules |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Ranked apart from their category:",
        "",
        *exceptions,
        RANKS_END,
    ])


def _replace(text: str, start: str, end: str, block: str) -> str:
    first, last = text.index(start), text.index(end) + len(end)
    return text[:first] + block + text[last:]


def expected_files() -> dict[Path, str]:
    rules = [*load_rules([ROOT / "rules"]), *ENGINE_RULES]
    rules.sort(key=lambda r: r.code)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme = _replace(readme, START, END, catalog(rules))
    readme = _replace(readme, RANKS_START, RANKS_END, severity_ranks(rules))
    files = {ROOT / "README.md": readme}
    files.update({DOCS / f"{r.code}.md": rule_page(r) for r in rules})
    return files


def main(argv: list[str]) -> int:
    files = expected_files()
    stale = [p for p, text in files.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    orphans = [p for p in DOCS.glob("*.md") if p not in files] if DOCS.is_dir() else []
    if "--check" in argv:
        for path in [*stale, *orphans]:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if stale or orphans else 0
    DOCS.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(files[path], encoding="utf-8")
    for path in orphans:
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
