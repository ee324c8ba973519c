"""Named rule sets: which rules run when the user does not pick codes.

Sets are defined by rule category (the failure class a rule covers), not by code, so a rule
joins the right set by declaring its category and new codes need no edit here.

- `baseline`: controls that fit any CloudFormation stack, whatever it does: encryption at rest
  and in transit, public access, IAM wildcards and cross-account trust, secrets, dead-letter
  handling, dependency cycles. Adopting it on an unrelated stack gives few findings, all of them
  worth fixing.
- `pipeline` (the default): the full compliance set of the seed document, the baseline plus
  lifecycle, monitoring, tagging, naming, performance and delivery controls.

Rules loaded from user rule directories (`--rules-dir`) belong to every set: whoever added the
directory wants them to run.

The default is `pipeline` because cfnaudit is a compliance gate: a green run must mean the stack
meets the standard, and a default that quietly checks a subset would tell users the opposite.
Noise on an existing code base is handled by a baseline file (`--write-baseline`), which keeps
the full standard for every new change, rather than by checking less. Stacks that are not data
pipelines choose `ruleset: baseline` in their configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cfnaudit.registry import RegistryError, Selection, builtin_rules_dir, select_rules
from cfnaudit.rule import Rule

DEFAULT_RULESET = "pipeline"

BASELINE_CATEGORIES = frozenset({
    "kms-rotation", "kms-key-policy", "s3-encryption", "encryption-at-rest",
    "s3-secure-transport", "s3-public-access", "security-group-open",
    "iam-wildcard", "xacct-external-id", "xacct-resource-policy", "secrets",
    "lambda-dlq", "sqs-redrive", "dependency-cycle",
})

PIPELINE_ONLY_CATEGORIES = frozenset({
    "s3-deny-unencrypted", "s3-versioning", "s3-access-logging", "iam-explicit-deny",
    "vpc-self-contained", "vpc-endpoints", "network-routing",
    "s3-lifecycle", "stream-failure-handling", "dynamodb-ttl", "dynamodb-pitr",
    "alarm-coverage", "alarm-actions", "metric-dimensions", "dashboard-coverage",
    "tags-required", "naming", "lambda-concurrency", "glue-tuning", "kinesis-scaling",
    "glue-script", "partitioning", "outputs", "deletion-policy", "logging",
})


@dataclass(frozen=True)
class RuleSet:
    name: str
    description: str
    categories: frozenset[str]

    def contains(self, item: Rule) -> bool:
        return item.category in self.categories or not _is_builtin(item)


RULESETS: dict[str, RuleSet] = {
    "baseline": RuleSet("baseline", "controls that fit any stack", BASELINE_CATEGORIES),
    "pipeline": RuleSet("pipeline", "the full pipeline compliance set",
                        BASELINE_CATEGORIES | PIPELINE_ONLY_CATEGORIES),
}


def _is_builtin(item: Rule) -> bool:
    if not item.source:
        return True
    return Path(item.source).resolve().parent == builtin_rules_dir().resolve()


def get_ruleset(name: str) -> RuleSet:
    try:
        return RULESETS[name]
    except KeyError:
        known = ", ".join(sorted(RULESETS))
        raise RegistryError(f"unknown ruleset {name!r} (known: {known})") from None


def choose(rules: Sequence[Rule], ruleset: str, select: Iterable[str] = (),
           extend_select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Rule, ...]:
    """The rules to run. An explicit `select` replaces the rule set; `extend_select` adds to it;
    `ignore` always removes. Every pattern must match some rule (a typo is an error)."""
    select, extend_select, ignore = tuple(select), tuple(extend_select), tuple(ignore)
    chosen_set = get_ruleset(ruleset)
    select_rules(rules, Selection((*select, *extend_select), ignore))  # validates the patterns
    picked = Selection(select) if select else None
    extra = Selection(extend_select) if extend_select else None
    dropped = Selection((), ignore)

    def wanted(item: Rule) -> bool:
        if picked is not None:
            base = picked.wants(item)
        else:
            base = chosen_set.contains(item) or (extra is not None and extra.wants(item))
        return base and dropped.wants(item)

    return tuple(r for r in rules if wanted(r))
