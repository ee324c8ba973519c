"""Pure render functions: a `Report` in, text out."""

from __future__ import annotations

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")
MACHINE_FORMATS = frozenset(FORMATS) - {"text"}

# The project's home. Placeholder until the repository is published: change it here only
# (SARIF informationUri and every rule's helpUri derive from it).
PROJECT_URL = "https://github.com/cfnaudit/cfnaudit"
RULE_DOCS_URL = f"{PROJECT_URL}/blob/main/docs/rules"


def rule_help_uri(code: str) -> str:
    """The rule's page, generated from its docs by `tools/rule_catalog.py`."""
    return f"{RULE_DOCS_URL}/{code}.md"
