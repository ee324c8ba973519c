"""Render the rule catalog from the rules' own docs: the README table and docs/rules/CODE.md.

    python tools/rule_catalog.py          # rewrite
    python tools/rule_catalog.py --check  # exit 1 when README.md or docs/rules/ are stale
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cfnaudit.engine import ENGINE_RULES  # noqa: E402  # imported after the path is set
from cfnaudit.registry import load_rules  # noqa: E402  # imported after the path is set
from cfnaudit.rule import Rule  # noqa: E402  # imported after the path is set

START, END = "<!-- rule-catalog -->", "<!-- /rule-catalog -->"
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


def expected_files() -> dict[Path, str]:
    rules = [*load_rules([ROOT / "rules"]), *ENGINE_RULES]
    rules.sort(key=lambda r: r.code)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(START), readme.index(END) + len(END)
    files = {ROOT / "README.md": readme[:start] + catalog(rules) + readme[end:]}
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
