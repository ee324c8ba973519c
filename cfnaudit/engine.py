"""Running rules on one template: findings, suppressions, fingerprints, ordering."""

from __future__ import annotations

import hashlib
import json
import re
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cfnaudit.deadline import DEFAULT_RULE_TIMEOUT, Budget, RuleTimeout
from cfnaudit.decode import Path
from cfnaudit.graph import ResourceGraph
from cfnaudit.intrinsics import DEFAULT_SCENARIO_BUDGET, Scenarios
from cfnaudit.rule import Context, Rule, Severity, Violation
from cfnaudit.template import FILE_START, Location, Template

_ENGINE_DOCS = """{summary}

## What it does
{what}

## Why is this bad?
{why}

## Example
{example}

## Use instead
{instead}

## References
- cfnaudit README, section "Exit codes and engine findings"
"""


def _engine_rule(code: str, name: str, severity: Severity, category: str, summary: str,
                 what: str, why: str, example: str, instead: str) -> Rule:
    docs = _ENGINE_DOCS.format(summary=summary, what=what, why=why, example=example,
                               instead=instead)
    return Rule(code=code, name=name, severity=severity, category=category, docs=docs,
                check=None, source="cfnaudit/engine.py")


DECODE_ERROR = _engine_rule(
    "CFA001", "decode-error", Severity.ERROR, "decode-error",
    "File cannot be read as a template.",
    "Reports files that are not valid YAML or JSON, use YAML anchors or unknown tags, nest too "
    "deeply, are too large, binary or unreadable.",
    "CloudFormation rejects the file, and no other rule can check it.",
    "A YAML file with a duplicate key.", "Remove the duplicate key.")
TEMPLATE_ERROR = _engine_rule(
    "CFA002", "template-error", Severity.ERROR, "template-error",
    "Template structure CloudFormation would reject.",
    "Reports resources without `Type`, sections of the wrong shape, malformed intrinsic "
    "functions and references to undefined resources, parameters or conditions.",
    "The stack fails to create; rules skip the broken parts.",
    "`!GetAtt [Bucket, Arn, Extra]`", "`!GetAtt Bucket.Arn`")
INTERNAL_ERROR = _engine_rule(
    "CFA003", "internal-error", Severity.ERROR, "internal-error",
    "A rule crashed on this template.",
    "Reports a rule that raised an exception; the other rules still ran.",
    "The crashed rule's findings are missing. Please report it with the template.",
    "Any template that triggers the bug.", "Run with `--debug` and file an issue.")
SUPPRESSION_WITHOUT_REASON = _engine_rule(
    "CFA004", "suppression-without-reason", Severity.WARNING, "suppression",
    "Suppression without a reason.",
    "Reports `cfnaudit: ignore` entries that lack a `code` or a non-empty `reason`; such an "
    "entry suppresses nothing.",
    "A suppression nobody can justify later is a silent hole in the audit.",
    "`ignore: [{code: S3001}]`", "`ignore: [{code: S3001, reason: \"public website\"}]`")
CONDITION_BUDGET = _engine_rule(
    "CFA005", "condition-budget-exceeded", Severity.INFO, "condition-budget",
    "Too many condition combinations to check them all.",
    "Reports a resource whose values depend on more condition combinations than the scenario "
    "budget (`--scenario-budget`); only the first combinations were checked.",
    "Findings that occur only in the unchecked combinations are missed.",
    "A resource using eight independent conditions.", "Raise the budget or simplify.")

RULE_TIMEOUT = _engine_rule(
    "CFA006", "rule-timeout", Severity.ERROR, "rule-timeout",
    "A rule ran out of time on this template.",
    "Reports a rule that ran longer than the time budget (`rule_timeout`, `--rule-timeout`) on "
    "one file; it was stopped, and the other rules and files were still checked.",
    "The stopped rule's findings for this file are missing, so the file is not fully checked.",
    "A template shaped to make a rule's work explode.",
    "Simplify the template, raise the budget, or report the slow rule with the template.")

ENGINE_RULES = (DECODE_ERROR, TEMPLATE_ERROR, INTERNAL_ERROR, SUPPRESSION_WITHOUT_REASON,
                CONDITION_BUDGET, RULE_TIMEOUT)
ERROR_CATEGORIES = frozenset({"decode-error", "template-error", "internal-error",
                              "rule-timeout"})


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    category: str
    message: str
    file: str
    resource: str | None
    path: Path
    location: Location
    fingerprint: str
    suppressed: str | None = None  # the reason, when suppressed
    source_line: str = ""
    suppressed_by: str = ""  # metadata | comment | config | baseline, when suppressed

    @property
    def sort_key(self) -> tuple[Any, ...]:
        loc = self.location
        return (self.file, loc.line, loc.column, self.code, self.message)

    @property
    def is_error(self) -> bool:
        """Decode, template and internal errors: the file was not fully checked (exit 2)."""
        return self.category in ERROR_CATEGORIES


def fingerprint(code: str, file: str, resource: str | None, path: Path, key: str = "") -> str:
    """Stable across line moves: built from what the finding is about, never where it is."""
    text = json.dumps([code, file, resource, list(path), key], ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def file_finding(rule: Rule, file: str, message: str, location: Location = FILE_START
                 ) -> Finding:
    return Finding(rule.code, rule.name, rule.severity, rule.category, message, file, None, (),
                   location, fingerprint(rule.code, file, None, (), message))


def make_finding(rule: Rule, template: Template, violation: Violation) -> Finding:
    path = violation.path
    resource = str(path[1]) if len(path) >= 2 and path[0] == "Resources" else None
    location = template.location(path)
    return Finding(
        code=rule.code, name=rule.name, severity=violation.severity or rule.severity,
        category=rule.category, message=violation.message, file=template.file,
        resource=resource, path=path, location=location,
        fingerprint=fingerprint(rule.code, template.file, resource, path, violation.key),
        source_line=template.line_text(location.line).rstrip(),
    )


@dataclass
class TemplateResult:
    findings: list[Finding]
    examined: dict[str, int] = field(default_factory=dict)  # rule code -> resources examined


def run_rules(template: Template, rules: Sequence[Rule],
              budget: int = DEFAULT_SCENARIO_BUDGET, debug: bool = False,
              timeout: float = DEFAULT_RULE_TIMEOUT) -> TemplateResult:
    graph = ResourceGraph(template)
    scenarios = Scenarios(template, budget)
    findings = [make_finding(TEMPLATE_ERROR, template, Violation(e.message, e.path))
                for e in template.errors]
    findings += [make_finding(TEMPLATE_ERROR, template, Violation(m.message, m.path))
                 for m in graph.malformed]
    findings += [make_finding(TEMPLATE_ERROR, template, Violation(d.message, d.edge.path))
                 for d in graph.dangling]
    examined: dict[str, int] = {}
    truncated: set[str] = set()
    with Budget(timeout) as time_budget:
        for rule in rules:
            outcome = _run_rule(rule, template, graph, scenarios, time_budget, debug)
            if isinstance(outcome, Finding):
                findings.append(outcome)
                continue
            ctx, violations, late = outcome
            examined[rule.code] = len(ctx.examined)
            truncated |= ctx.truncated
            findings.extend(make_finding(rule, template, v) for v in violations)
            if late is not None:
                findings.append(late)
    for logical_id in sorted(truncated):
        findings.append(make_finding(CONDITION_BUDGET, template, Violation(
            f"`{logical_id}` depends on more condition combinations than the budget of "
            f"{budget}; only the first {budget} were checked",
            ("Resources", logical_id))))
    findings = apply_suppressions(template, _unique(findings))
    return TemplateResult(sorted(findings, key=lambda f: f.sort_key), examined)


def _run_rule(rule: Rule, template: Template, graph: ResourceGraph, scenarios: Scenarios,
              time_budget: Budget, debug: bool
              ) -> Finding | tuple[Context, list[Violation], Finding | None]:
    """One rule on one template: its context, violations and, when it was only measured and
    went over the budget, a timeout finding; or the finding that replaces a crashed or stopped
    rule's results."""
    assert rule.check is not None  # the registry admits only rules with a check
    ctx = Context(template, graph, rule.options, rule, scenarios)
    started = time.monotonic()
    try:
        with time_budget.limit():
            violations = list(rule.check(ctx))
    except RuleTimeout:
        return file_finding(RULE_TIMEOUT, template.file, _timeout_message(rule, time_budget, True))
    except Exception as exc:
        if debug:
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return file_finding(
            INTERNAL_ERROR, template.file,
            f"rule {rule.code} ({rule.name}) crashed: {type(exc).__name__}: {exc} "
            f"(at {where.name}, line {where.lineno}); run with --debug for the traceback")
    late = None
    if not time_budget.interrupts and time_budget.exceeded(started):
        late = file_finding(RULE_TIMEOUT, template.file,
                            _timeout_message(rule, time_budget, False))
    return ctx, violations, late


def _timeout_message(rule: Rule, time_budget: Budget, stopped: bool) -> str:
    what = ("was stopped; its findings for this file are missing" if stopped
            else "could not be stopped here (no timer in this thread); its findings are kept")
    return (f"rule {rule.code} ({rule.name}) ran longer than the {time_budget.seconds:g} s "
            f"budget on this file and {what} (`--rule-timeout` sets the budget)")


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (fingerprint, message): scenarios often repeat the same violation."""
    seen: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.fingerprint, finding.message), finding)
    return list(seen.values())


# ----------------------------------------------------------------------------- suppressions
#
# Three sources, one rule: a suppression needs a code and a reason, and a suppressed finding stays
# in the report (marked), never deleted. Metadata (`cfnaudit: ignore: [{code, reason}]`) on a
# resource or the template, and YAML comments `# cfnaudit: ignore CODE[,CODE] reason` on the
# offending line or on the resource's logical-id line. Errors in the template cannot be waived.

# `suppressed_by` values; config-file ignores and baselines are applied later by the api.
BY_METADATA, BY_COMMENT = "metadata", "comment"

_INLINE = re.compile(r"(?:^|\s)#\s*cfnaudit:\s*ignore\b(?P<rest>.*)$")
_CODE = r"[A-Z]{1,4}\d{0,3}\b"
_INLINE_CODES = re.compile(rf"\s*(?P<codes>{_CODE}(?:\s*,\s*{_CODE})*)(?P<reason>.*)$")


@dataclass(frozen=True, slots=True)
class Suppression:
    code: str  # a code or a code prefix
    reason: str


def _suppressions(metadata: Mapping[str, Any], base: Path, template: Template
                  ) -> tuple[list[Suppression], list[Finding]]:
    section = metadata.get("cfnaudit")
    if not isinstance(section, dict):
        return [], []
    entries = section.get("ignore")
    valid: list[Suppression] = []
    invalid: list[Finding] = []
    if not isinstance(entries, list):
        entries = [entries] if entries is not None else []
    for i, entry in enumerate(entries):
        code = entry.get("code") if isinstance(entry, dict) else None
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if isinstance(code, str) and code and isinstance(reason, str) and reason.strip():
            valid.append(Suppression(code, reason.strip()))
        else:
            path = (*base, "Metadata", "cfnaudit", "ignore", i)
            problem = "a `code`" if not isinstance(code, str) or not code else "a `reason`"
            invalid.append(make_finding(SUPPRESSION_WITHOUT_REASON, template, Violation(
                f"suppression of {code or 'an unnamed rule'} has no {problem[2:]}; "
                "it is ignored", path)))
    return valid, invalid


def inline_suppressions(template: Template
                        ) -> tuple[dict[int, list[Suppression]], list[Finding]]:
    """`# cfnaudit: ignore CODE reason` comments by 1-based line, and a CFA004 finding for each
    comment without codes or without a reason. JSON has no comments; the text is still read, so a
    JSON string holding such a comment is taken as one (harmless: it needs a matching finding)."""
    by_line: dict[int, list[Suppression]] = {}
    problems: list[Finding] = []
    if "cfnaudit:" not in template.text:
        return by_line, problems
    for number, line in enumerate(template.text.splitlines(), start=1):
        found = _INLINE.search(line)
        if found is None:
            continue
        parsed = _INLINE_CODES.match(found.group("rest"))
        codes = [c.strip() for c in parsed.group("codes").split(",")] if parsed else []
        reason = parsed.group("reason").strip(" \t-:\u2013\u2014").strip() if parsed else ""
        if codes and reason:
            by_line[number] = [Suppression(code, reason) for code in codes]
            continue
        column = line.index("#", found.start()) + 1
        named = ",".join(codes) or "an unnamed rule"
        missing = "reason" if codes else "rule code"
        problems.append(file_finding(
            SUPPRESSION_WITHOUT_REASON, template.file,
            f"suppression comment for {named} has no {missing}; it is ignored",
            Location(number, column, number, len(line) + 1)))
    return by_line, problems


def _match(code: str, candidates: Iterable[Suppression]) -> Suppression | None:
    return next((s for s in candidates if code.startswith(s.code)), None)


def apply_suppressions(template: Template, findings: list[Finding]) -> list[Finding]:
    template_level, problems = _suppressions(template.metadata, (), template)
    by_resource: dict[str, list[Suppression]] = {}
    for logical_id, resource in template.resources.items():
        valid, invalid = _suppressions(resource.metadata, resource.path, template)
        if valid:
            by_resource[logical_id] = valid
        problems.extend(invalid)
    by_line, comment_problems = inline_suppressions(template)
    problems.extend(comment_problems)
    result = []
    for finding in findings:
        if finding.category in ERROR_CATEGORIES:
            result.append(finding)  # errors in the template cannot be waived
            continue
        match = _match(finding.code, by_resource.get(finding.resource or "", []) + template_level)
        if match is not None:
            result.append(replace(finding, suppressed=match.reason, suppressed_by=BY_METADATA))
            continue
        lines = [finding.location.line]
        if finding.resource is not None:
            lines.append(template.location(("Resources", finding.resource)).line)
        match = _match(finding.code, (s for n in lines for s in by_line.get(n, ())))
        result.append(replace(finding, suppressed=match.reason, suppressed_by=BY_COMMENT)
                      if match else finding)
    return result + problems


def refuse_suppressions(findings: Iterable[Finding], codes: Sequence[str]) -> list[Finding]:
    """`--no-suppress CODES`: findings of these rules (code prefixes, or ALL) count even when
    suppressed, so a central team can refuse waivers for chosen controls."""
    def refused(code: str) -> bool:
        return any(p == "ALL" or code.startswith(p) for p in codes)

    return [replace(f, suppressed=None, suppressed_by="")
            if f.suppressed is not None and refused(f.code) else f for f in findings]
