"""The public rule API. Rule files import only this module.

A rule is a pure function from a `Context` to `Violation`s plus metadata. Rules return paths;
the engine turns them into locations, fingerprints and findings.

    from cfnaudit.rule import Context, Severity, Violation, rule

    @rule(code="DDB002", name="dynamodb-point-in-time-recovery", severity=Severity.WARNING,
          category="dynamodb-pitr", resource_types=("AWS::DynamoDB::Table",))
    def check(ctx: Context) -> Iterator[Violation]:
        \"\"\"Table has no point-in-time recovery. (ruff-style docs follow)\"\"\"
        for table, variant in ctx.variants():
            ...
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cfnaudit.decode import parse_json_text
from cfnaudit.glue_scripts import ScriptLocation, script_deliverers, script_location
from cfnaudit.intrinsics import (
    NO_CONDITIONS,
    NO_VALUE,
    Scenario,
    Scenarios,
    Unresolved,
    branch,
    describe,
    is_macro_output,
    is_no_value,
    proves_nonempty,
    referenced_names,
    resolve,
    sub_variables,
)
from cfnaudit.policy import (  # policy analysis helpers, re-exported for rule files
    DATA_STORE_TYPES,
    DATA_STORE_WRITE_ACTIONS,
    SAME_ACCOUNT,
    Condition,
    PolicySource,
    Principal,
    action_matches,
    actions_of,
    allows_action,
    bucket_arns,
    bucket_name,
    bucket_policies,
    condition_values,
    conditions_of,
    effect_of,
    exists_in,
    in_scenario,
    located_statements,
    not_actions_of,
    pattern_matches,
    principals_of,
    referenced_resources,
    render,
    resources_of,
    role_policy_documents,
    shown,
    statements,
    write_actions_allowed,
)
from cfnaudit.roles import (  # what resources are for, re-exported for rule files
    LOG_DELIVERY,
    SERVED,
    SHORT_LIVED,
    SSE_S3_ONLY,
    Invocation,
    Invoker,
    Purpose,
    Role,
    Roles,
    backs_file_system,
    dead_letter_sources,
    evaluates_config_rule,
    excludes_anywhere,
    expires_everything_within,
    group_attachments,
    group_users,
    guards_hosts_or_interfaces,
    holds_macro_output,
    holds_passing_records,
    hosts_needing_internet,
    hosts_without_endpoints,
    in_subnets_without_exit,
    internal_entry,
    internet_unreachable,
    is_connection_table,
    is_dead_letter_queue,
    is_deployment_helper,
    is_detached_empty_volume,
    is_ephemeral_table,
    is_macro_placeholder,
    key_exported,
    key_used_only_inside,
    name_known_outside,
    named_as_results,
    notifies_people_only,
    opens_no_connections,
    private_entry,
    receives_command_output,
    receives_firehose_backup,
    roles_of,
    schedule_minutes,
    stack_stores_under_key,
    stores_encrypted_with,
    stores_nothing,
    stores_under_key,
    timestream_keeps_days,
    used_only_at_deploy,
)
from cfnaudit.scope import (  # what an identity statement really reaches
    STAR_ONLY_ACTIONS,
    accepts_star,
    broad_writes,
    denied,
    fixed_logic_role,
    full_access_services,
    scoped_by_condition,
    subtracting_denies,
)
from cfnaudit.taggable import TagProperty, tag_property, taggable_types
from cfnaudit.template import Output, Parameter, Resource, Template
from cfnaudit.typed import (
    list_or_empty,
    mapping_or_empty,
    read_bool,
    read_int,
    read_list,
    read_mapping,
    read_text,
    shape,
    text_of,
    truth_of,
    whole_number,
)
from cfnaudit.values import as_int, is_true, literal, skeleton

if TYPE_CHECKING:
    from cfnaudit.decode import Path
    from cfnaudit.graph import Edge, ResourceGraph

__all__ = [
    "DATA_STORE_TYPES",
    "DATA_STORE_WRITE_ACTIONS",
    "LOG_DELIVERY",
    "NO_CONDITIONS",
    "NO_VALUE",
    "SAME_ACCOUNT",
    "SERVED",
    "SHORT_LIVED",
    "SSE_S3_ONLY",
    "STAR_ONLY_ACTIONS",
    "Condition",
    "Context",
    "Invocation",
    "Invoker",
    "Output",
    "Parameter",
    "PolicySource",
    "Principal",
    "Purpose",
    "Resource",
    "Role",
    "Roles",
    "Rule",
    "Scenario",
    "ScriptLocation",
    "Severity",
    "TagProperty",
    "Template",
    "Unresolved",
    "Variant",
    "Violation",
    "accepts_star",
    "action_matches",
    "actions_of",
    "allows_action",
    "as_int",
    "backs_file_system",
    "branch",
    "broad_writes",
    "bucket_arns",
    "bucket_name",
    "bucket_policies",
    "condition_values",
    "conditions_of",
    "dead_letter_sources",
    "denied",
    "describe",
    "effect_of",
    "evaluates_config_rule",
    "excludes_anywhere",
    "exists_in",
    "expires_everything_within",
    "fixed_logic_role",
    "fold",
    "full_access_services",
    "group_attachments",
    "group_users",
    "guards_hosts_or_interfaces",
    "holds_macro_output",
    "holds_passing_records",
    "hosts_needing_internet",
    "hosts_without_endpoints",
    "in_scenario",
    "in_subnets_without_exit",
    "internal_entry",
    "internet_unreachable",
    "is_connection_table",
    "is_dead_letter_queue",
    "is_deployment_helper",
    "is_detached_empty_volume",
    "is_ephemeral_table",
    "is_macro_output",
    "is_macro_placeholder",
    "is_no_value",
    "is_true",
    "key_exported",
    "key_used_only_inside",
    "list_or_empty",
    "located_statements",
    "mapping_or_empty",
    "name_known_outside",
    "named_as_results",
    "not_actions_of",
    "notifies_people_only",
    "opens_no_connections",
    "parse_json_text",
    "pattern_matches",
    "principals_of",
    "private_entry",
    "proves_nonempty",
    "read_bool",
    "read_int",
    "read_list",
    "read_mapping",
    "read_text",
    "receives_command_output",
    "receives_firehose_backup",
    "referenced_names",
    "referenced_resources",
    "render",
    "resources_of",
    "role_policy_documents",
    "rule",
    "schedule_minutes",
    "scoped_by_condition",
    "script_deliverers",
    "script_location",
    "shape",
    "shown",
    "stack_stores_under_key",
    "statements",
    "stores_encrypted_with",
    "stores_nothing",
    "stores_under_key",
    "sub_variables",
    "subtracting_denies",
    "tag_property",
    "taggable_types",
    "text_of",
    "timestream_keeps_days",
    "truth_of",
    "used_only_at_deploy",
    "whole_number",
    "write_actions_allowed",
]


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


CODE_PATTERN = re.compile(r"^[A-Z]{2,4}\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DOC_SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead",
                "## References")


@dataclass(frozen=True, slots=True)
class Violation:
    """What a rule reports: a message and the absolute path it is about.

    `path` starts at the template root, e.g. `resource.at("Properties", "KmsKeyId")`; a missing
    property is reported on the resource itself (`resource.path`). `key` tells apart several
    violations on one path in the fingerprint (for example the name of a missing principal).
    """

    message: str
    path: Path
    severity: Severity | None = None
    key: str = ""


Check = Callable[["Context"], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    category: str
    docs: str
    check: Check | None = field(repr=False, compare=False)
    resource_types: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    security: bool = False
    source: str = ""  # the file the rule was loaded from

    @property
    def summary(self) -> str:
        return self.docs.strip().splitlines()[0].strip() if self.docs.strip() else ""


def rule(*, code: str, name: str, severity: Severity, category: str,
         resource_types: Iterable[str] = (), options: Mapping[str, Any] | None = None,
         security: bool = False) -> Callable[[Check], Rule]:
    """Turn a check function into a `Rule`; its docstring is the rule's documentation."""

    def wrap(check: Check) -> Rule:
        import inspect

        return Rule(code=code, name=name, severity=severity, category=category,
                    docs=inspect.cleandoc(check.__doc__ or ""), check=check,
                    resource_types=tuple(resource_types),
                    options=MappingProxyType(dict(options or {})), security=security)

    return wrap


def fold(found: list[tuple[Scenario, list[Violation]]]) -> Iterator[Violation]:
    """Merge per-scenario results. A violation found in every scenario is reported once,
    plainly; one found in some gets " when ..." naming the fewest conditions that tell those
    scenarios apart from the rest (not every condition of the scenario). One problem (the
    same path and key) worded differently in different scenarios is one violation that lists
    each wording with its scenarios."""
    if not found:  # the resource exists in no scenario: its condition can never hold
        return
    every = [scenario for scenario, _ in found]
    groups: dict[tuple[Path, str], dict[str, tuple[Violation, list[Scenario]]]] = {}
    crowded: set[tuple[Path, str]] = set()  # several problems share a path and key
    for scenario, violations in found:
        seen_here: dict[tuple[Path, str], str] = {}
        for v in violations:
            ident = (v.path, v.key)
            if seen_here.setdefault(ident, v.message) != v.message:
                crowded.add(ident)
            entry = groups.setdefault(ident, {}).setdefault(v.message, (v, []))
            if scenario not in entry[1]:
                entry[1].append(scenario)
    for ident, wordings in groups.items():
        if len({v.severity for v, _ in wordings.values()}) > 1:
            crowded.add(ident)  # an error and a warning are not one finding's two wordings
        if ident in crowded or len(wordings) == 1:
            for violation, scenarios in wordings.values():
                when = _when(scenarios, every)
                yield replace(violation, message=f"{violation.message} {when}" if when
                              else violation.message)
            continue
        first = next(iter(wordings.values()))[0]
        yield replace(first, message=_merged([(m, _when(s, every))
                                              for m, (_, s) in wordings.items()]))


def _when(scenarios: list[Scenario], every: list[Scenario]) -> str:
    """"when A is true" (several such joined), or "unless ..." when the scenarios left out are
    fewer to name; empty when `scenarios` are all of them."""
    if len(scenarios) == len(set(every)):
        return ""
    inside = _distinguishing(scenarios, every)
    outside = _distinguishing([s for s in every if s not in scenarios], every)
    if len(outside) < len(inside):  # "unless A is false": fewer words than listing the rest
        return "unless " + ", or ".join(describe(c).removeprefix("when ") for c in outside)
    return ", or ".join(w for w in (describe(c) for c in inside) if w)


def _merged(wordings: list[tuple[str, str]]) -> str:
    """`VPC X has ... zone (a) when P is true; (b) when P is false`: the words all wordings
    start with once, then each rest with its scenarios."""
    split = [message.split(" ") for message, _ in wordings]
    shared = 0
    while all(len(words) > shared + 1 for words in split) and \
            len({words[shared] for words in split}) == 1:
        shared += 1
    while shared and " ".join(split[0][:shared]).count("(") > \
            " ".join(split[0][:shared]).count(")"):
        shared -= 1  # never cut inside parentheses: `(zone #0)` / `(zone #1)` stay whole
    head = " ".join(split[0][:shared]) if shared >= 3 else ""
    parts = [" ".join(words[shared if head else 0:]) + (f" {when}" if when else "")
             for words, (_, when) in zip(split, wordings, strict=True)]
    return f"{head} " + "; ".join(parts) if head else "; ".join(parts)


def _distinguishing(inside: list[Scenario], every: list[Scenario]) -> list[Scenario]:
    """The shortest projections of the `inside` scenarios onto a set of conditions that no
    scenario outside shares; the full scenarios when none is shorter or there are too many
    conditions to search."""
    outside = [s for s in every if s not in inside]
    names = sorted({name for s in every for name, _ in s})
    if len(names) <= 8:
        for size in range(1, len(names)):
            for subset in itertools.combinations(names, size):
                def project(s: Scenario, keep: tuple[str, ...] = subset) -> Scenario:
                    return tuple(pair for pair in s if pair[0] in keep)

                projected = list(dict.fromkeys(project(s) for s in inside))
                if not {project(s) for s in outside} & set(projected):
                    return projected
    return list(dict.fromkeys(inside))


@dataclass(frozen=True, slots=True)
class Variant:
    """A resource's properties as deployed in one condition scenario."""

    scenario: Scenario
    properties: Mapping[str, Any]

    @property
    def when(self) -> str:
        """` when IsProd is false` (leading space) or empty: append it to messages."""
        text = describe(self.scenario)
        return f" {text}" if text else ""


@dataclass
class Context:
    """What a rule sees of one template. Not shared between rules."""

    template: Template
    graph: ResourceGraph
    options: Mapping[str, Any]
    rule: Rule
    scenarios: Scenarios
    examined: set[str] = field(default_factory=set)
    truncated: set[str] = field(default_factory=set)

    # ----------------------------------------------------------------- resources

    def resources(self, *types: str) -> Iterator[Resource]:
        """Resources of `types` (default: the rule's resource types), marked as examined."""
        for resource in self.template.of_type(*(types or self.rule.resource_types)):
            self.examined.add(resource.logical_id)
            yield resource

    def examine(self, resource: Resource) -> None:
        """Record that the rule looked at `resource` without iterating `resources()`."""
        self.examined.add(resource.logical_id)

    def variants(self, resource: Resource) -> list[Variant]:
        """The properties of `resource` in every condition scenario that changes them (one
        variant without conditions in the common case). Fn::If is resolved and AWS::NoValue
        removed; other intrinsics are left for `resolve`."""
        self.examined.add(resource.logical_id)
        names = self.graph.conditions_used.get(resource.logical_id, set())
        if not names and resource.logical_id not in self.graph.uses_no_value:
            return [Variant(NO_CONDITIONS, resource.properties)]
        scenarios, truncated = self.scenarios.enumerate(names, required=resource.condition)
        if truncated:
            self.truncated.add(resource.logical_id)
        result = []
        for scenario in scenarios:
            properties = branch(dict(resource.properties), scenario)
            result.append(Variant(scenario, properties if isinstance(properties, dict) else {}))
        return result

    def properties_in(self, resource: Resource, scenario: Scenario) -> Mapping[str, Any]:
        """The properties of `resource` as deployed in `scenario` (Fn::If chosen, AWS::NoValue
        dropped); empty when an `Fn::If` over the whole `Properties` removes them."""
        chosen = branch(dict(resource.properties), scenario)
        return chosen if isinstance(chosen, dict) else {}

    def each_variant(self, resource: Resource,
                     check: Callable[[Variant], Iterable[Violation]]) -> Iterator[Violation]:
        """Run `check` on every variant of `resource` and fold the results (see `fold`).
        `check` writes messages without any scenario wording."""
        yield from fold([(v.scenario, list(check(v))) for v in self.variants(resource)])

    def joint_scenarios(self, resource: Resource, related: Iterable[Resource] = ()
                        ) -> list[Scenario]:
        """The condition scenarios that matter for `resource` together with `related`
        resources (their Fn::If conditions and their own `Condition`s), where `resource`
        exists. All of them are marked examined."""
        used = self.graph.conditions_used
        names = set(used.get(resource.logical_id, ()))
        self.examine(resource)
        for other in related:
            self.examine(other)
            names |= used.get(other.logical_id, set())
            if other.condition:
                names.add(other.condition)
        scenarios, truncated = self.scenarios.enumerate(names, required=resource.condition)
        if truncated:
            self.truncated.add(resource.logical_id)
        return list(scenarios)

    def each_scenario(self, resource: Resource, related: Iterable[Resource],
                      check: Callable[[Scenario], Iterable[Violation]]) -> Iterator[Violation]:
        """Run `check` in every joint scenario of `resource` and `related`, then fold. For
        checks that read several resources at once (use `branch`/`in_scenario` on values)."""
        scenarios = self.joint_scenarios(resource, related)
        yield from fold([(s, list(check(s))) for s in scenarios])

    def variants_of(self, resource: Resource, value: Any) -> list[tuple[Scenario, Any]]:
        """Any value (a policy document, an output) in every scenario that changes it."""
        self.examined.add(resource.logical_id)
        from cfnaudit.intrinsics import conditions_in

        names = conditions_in(value)
        if not names:
            return [(NO_CONDITIONS, branch(value, NO_CONDITIONS))]
        scenarios, truncated = self.scenarios.enumerate(names)
        if truncated:
            self.truncated.add(resource.logical_id)
        return [(s, branch(value, s)) for s in scenarios]

    # -------------------------------------------------------------------- values

    def resolve(self, value: Any, scenario: Scenario = NO_CONDITIONS) -> Any:
        """A literal for `value` (parameters through their default or the user's value,
        mappings, Join, Select, Split, Sub, Cidr, If), or an `Unresolved` saying why not."""
        return resolve(value, self.template, scenario)

    def truth(self, value: Any, scenario: Scenario = NO_CONDITIONS) -> bool | Unresolved:
        """A CloudFormation boolean (`true`, "True"), or `Unresolved`; absent is false."""
        resolved = self.resolve(value, scenario)
        return resolved if isinstance(resolved, Unresolved) else is_true(resolved)

    def read_int(self, value: Any, scenario: Scenario = NO_CONDITIONS,
                 what: str = "the value") -> int | Unresolved | None:
        """A whole number, None when absent, or `Unresolved` naming `what` (see `typed`)."""
        return read_int(value, self.template, scenario, what)

    def read_text(self, value: Any, scenario: Scenario = NO_CONDITIONS,
                  what: str = "the value") -> str | Unresolved | None:
        """Text (numbers and booleans as text), None when absent, or `Unresolved`."""
        return read_text(value, self.template, scenario, what)

    def read_bool(self, value: Any, scenario: Scenario = NO_CONDITIONS,
                  what: str = "the value") -> bool | Unresolved | None:
        """A CloudFormation boolean, None when absent, or `Unresolved`."""
        return read_bool(value, self.template, scenario, what)

    def read_list(self, value: Any, scenario: Scenario = NO_CONDITIONS,
                  what: str = "the value") -> list[Any] | Unresolved:
        """A list (empty when absent; AWS::NoValue items dropped), or `Unresolved`."""
        return read_list(value, self.template, scenario, what)

    def read_mapping(self, value: Any, scenario: Scenario = NO_CONDITIONS,
                     what: str = "the value") -> Mapping[str, Any] | Unresolved:
        """A mapping (empty when absent), or `Unresolved`."""
        return read_mapping(value, self.template, scenario, what)

    def literal(self, value: Any, scenario: Scenario = NO_CONDITIONS) -> str | None:
        """The resolved value as text when it is a string or number, else None."""
        return literal(value, self.template, scenario)

    def skeleton(self, value: Any, scenario: Scenario = NO_CONDITIONS) -> str | None:
        """A string expression with deploy-time parts as `*` (see `values.skeleton`)."""
        return skeleton(value, self.template, scenario)

    def ref_target(self, value: Any) -> str | None:
        """The logical id a `Ref`/`Fn::GetAtt` value points at (resources only)."""
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" and isinstance(arg, str) and arg in self.template.resources:
                return arg
            if key == "Fn::GetAtt":
                name = arg.split(".", 1)[0] if isinstance(arg, str) else (
                    arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else None)
                return name if name in self.template.resources else None
        return None

    def option(self, name: str) -> Any:
        return self.options[name]

    # ---------------------------------------------------------------------- roles

    @property
    def roles(self) -> Roles:
        """What the template's resources are for (shared by every rule of the scan)."""
        return roles_of(self.template, self.graph)

    def role(self, resource: Resource) -> Role:
        """What `resource` is for: its purposes (a log-delivery bucket, a dead-letter
        queue...) and, for functions, who invokes it and how."""
        return self.roles.role(resource)

    # ---------------------------------------------------------------------- graph

    def referrers(self, resource: Resource, *, types: Iterable[str] | None = None,
                  kinds: Iterable[str] | None = None, under: tuple[str | int, ...] = ()
                  ) -> list[Edge]:
        return self.graph.referrers(resource.logical_id, types=types, kinds=kinds, under=under)

    def referring_resources(self, resource: Resource, *, types: Iterable[str] | None = None,
                            under: tuple[str | int, ...] = ()) -> list[Resource]:
        return self.graph.referring_resources(resource.logical_id, types=types, under=under)

    def targets_at(self, resource: Resource, *prefix: str | int,
                   types: Iterable[str] | None = None) -> list[Resource]:
        return self.graph.targets_at(resource, *prefix, types=types)

    def parameters_at(self, resource: Resource, *prefix: str | int) -> list[Parameter]:
        return [self.template.parameters[n] for n in self.graph.parameters_at(resource, *prefix)]
