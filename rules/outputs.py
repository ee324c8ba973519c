"""Stack outputs for the resources consumers need (category `outputs`).

A resource appears in `Outputs` when an output's `Value` refers to it (`Ref`, `Fn::GetAtt`,
`Fn::Sub`), as recorded by the resource graph. IAM roles count as key resources only when
they can be assumed from another account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Severity,
    Violation,
    is_true,
    key_used_only_inside,
    name_known_outside,
    notifies_people_only,
    render,
    rule,
    stores_nothing,
    sub_variables,
    used_only_at_deploy,
)

KEY_TYPES = ["AWS::S3::Bucket", "AWS::Kinesis::Stream", "AWS::DynamoDB::Table", "AWS::KMS::Key",
             "AWS::SNS::Topic", "AWS::CloudWatch::Dashboard", "AWS::IAM::Role"]
ROLE = "AWS::IAM::Role"


def _mentions_own_account(ctx: Context, value: Any) -> bool:
    """True when a principal value refers to this account (`AWS::AccountId`) or to a
    resource of the stack."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if node.get("Ref") == "AWS::AccountId" or ctx.ref_target(node) is not None:
                return True
            sub = node.get("Fn::Sub")
            text = sub[0] if isinstance(sub, list) and sub else sub
            if isinstance(text, str) and any(
                    v == "AWS::AccountId" or v.split(".")[0] in ctx.template.resources
                    for v in sub_variables(text)):
                return True
            stack.extend(node.values())
    return False


def is_cross_account_role(ctx: Context, role: Resource) -> bool:
    """The trust policy lets an AWS principal outside this account assume the role."""
    document = role.properties.get("AssumeRolePolicyDocument")
    statements = document.get("Statement") if isinstance(document, dict) else None
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else principal
        if aws is None:
            continue
        for value in aws if isinstance(aws, list) else [aws]:
            if not _mentions_own_account(ctx, value):
                return True
    return False


def key_resources(ctx: Context, option: str) -> Iterator[Resource]:
    for resource in ctx.resources(*[str(t) for t in ctx.option(option)]):
        if resource.type != ROLE or is_cross_account_role(ctx, resource):
            yield resource


# The property that sets each key type's physical name.
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::IAM::Role": "RoleName",
}
_SHORTEST_NAME = 8  # a shorter rendered name (`dev`) could appear in any text by chance


def outputs_by_resource(ctx: Context, by_name: bool = True) -> dict[str, list[str]]:
    """Logical id -> names of the outputs whose Value refers to it or (with `by_name`)
    carries its physical name (template order)."""
    found: dict[str, list[str]] = {}
    for edge in ctx.graph.output_edges():
        if edge.target[0] == "Resources" and edge.path[2:3] == ("Value",):
            names = found.setdefault(edge.target_id, [])
            if edge.source[1] not in names:
                names.append(edge.source[1])
    for logical_id, output in _outputs_carrying_names(ctx) if by_name else ():
        names = found.setdefault(logical_id, [])
        if output not in names:
            names.append(output)
    order = list(ctx.template.outputs)
    return {k: sorted(v, key=order.index) for k, v in found.items()}


def _outputs_carrying_names(ctx: Context) -> Iterator[tuple[str, str]]:
    """(logical id, output name) for outputs whose Value carries a resource's physical name:
    a console URL built from the same `Sub` text as `DashboardName`, or from the parameter
    the name is taken from (parameters render to their default, or `${Name}` without one)."""
    outputs = [(o.name, render(o.value, ctx.template))
               for o in ctx.template.outputs.values() if o.value is not None]
    if not outputs:
        return
    for resource_type, name_property in NAME_PROPERTY.items():
        for resource in ctx.template.of_type(resource_type):
            value = resource.properties.get(name_property)
            if value is None:
                continue
            # Rendered alike on both sides: the same Sub text or parameter gives the same text.
            text = render(value, ctx.template)
            for output, rendered in outputs:
                if "${?}" not in text and (len(text) >= _SHORTEST_NAME or text == rendered) \
                        and _carries(rendered, text):
                    yield resource.logical_id, output


def _carries(text: str, name: str) -> bool:
    """`name` occurs in `text` as a whole name, not as the start of a longer one
    (`data` in `.../data-archive`)."""
    pattern = r"(?<![\w-])" + re.escape(name) + r"(?![\w-])"
    return re.search(pattern, text) is not None


def _noun(resource: Resource) -> str:
    return resource.type.split("::")[-1]


@rule(code="OUT001", name="key-resource-output", severity=Severity.INFO,
      category="outputs", resource_types=tuple(KEY_TYPES), options={"types": KEY_TYPES})
def key_resource_output(ctx: Context) -> Iterator[Violation]:
    """Key resource does not appear in the stack's Outputs.

    ## What it does
    For each resource of `types` (buckets, streams, tables, KMS keys, topics, dashboards, and
    IAM roles whose trust policy admits a principal of another account), requires an output
    whose `Value` refers to it through `Ref`, `Fn::GetAtt` or `Fn::Sub`, or carries its
    physical name: a value built from the same `Sub` text as its name property
    (`DashboardName`, `BucketName`, ...; a console URL, for instance) or from the parameter
    the name is taken from. A rendered name shorter than 8 characters must be the whole value.

    Only resources whose name users of the stack would have to look up are asked: a name
    generated by CloudFormation (no name property) or built from values they cannot see
    (`Ref`/`GetAtt` of a resource, `Fn::ImportValue`, a parameter such as the environment
    that no output publishes). A name written in the template, a parameter as a whole
    (`!Ref BucketName`: the deployer chose it), or one built only from
    `AWS::StackName`/`AWS::Region`/`AWS::AccountId` and parameters that outputs publish
    (`${AWS::StackName}-orders`, `${AppName}-test` with an `AppName` output) is known; a KMS
    key with an alias so named is too. A bucket that stores nothing (nothing in the stack
    reads or writes it, no policy grants it, no name: a placeholder) is not asked.

    Nor is a resource that nothing outside the stack addresses: a bucket that only
    deployment touches (custom resources and the functions serving only them write it,
    layer or function code locations read it); a topic the stack's resources publish to
    whose every subscription is declared in the stack and reaches people (email, SMS), with
    no topic policy admitting another account (a topic feeding queues or functions is an
    event feed more consumers may tap, and stays asked); a KMS key that resources of the
    stack encrypt with and whose key policy admits no other account.

    ## Why is this bad?
    Consumers, runbooks and other stacks need the generated names and ARNs. Without outputs
    they copy them from the console, and the copies go stale when the stack is replaced.

    ## Example
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
    ```

    ## Use instead
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
    Outputs:
      TicksStreamName:
        Value: !Ref Ticks
        Export:
          Name: !Sub "${AWS::StackName}-TicksStreamName"
    ```

    ## Options
    - `types` (list): the key resource types.

    ## References
    - [Outputs](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html)
    """
    listed = outputs_by_resource(ctx)
    for resource in key_resources(ctx, "types"):
        if resource.logical_id in listed or _needs_no_lookup(ctx, resource):
            continue
        yield Violation(f"{_noun(resource)} `{resource.logical_id}` does not appear in Outputs, "
                        "and its name is not known outside the stack", resource.path)


def _needs_no_lookup(ctx: Context, resource: Resource) -> bool:
    """Nobody has to look the resource up: its physical name is known outside the stack
    (see `name_known_outside`), or nothing outside the stack addresses it: a bucket that
    stores nothing or only deployment touches, a topic that notifies people for the stack,
    a key only the stack's resources encrypt with."""
    if resource.type == "AWS::S3::Bucket" and (stores_nothing(ctx, resource)
                                               or used_only_at_deploy(ctx, resource)):
        return True
    if resource.type == "AWS::SNS::Topic" and notifies_people_only(ctx, resource):
        return True
    if resource.type == "AWS::KMS::Key" and key_used_only_inside(ctx, resource):
        return True
    return name_known_outside(ctx, resource, NAME_PROPERTY.get(resource.type, ""))


# Resources that accompany the resource they name (its policy, alias, alarm, scaling) without
# using it.
ACCESSORY_TYPES = frozenset({
    "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::KMS::Alias",
    "AWS::CloudWatch::Alarm", "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
})
SUBSCRIPTION = "AWS::SNS::Subscription"
# A cross-account role is assumed from another account, where Fn::ImportValue cannot reach; a
# dashboard is read by people. Neither is imported by another stack.
NEVER_IMPORTED = frozenset({ROLE, "AWS::CloudWatch::Dashboard"})


def is_building_block(ctx: Context, types: frozenset[str]) -> bool:
    """The template only provides resources: each of its resources is a key resource or an
    accessory of one (a subscription counts when its endpoint is outside the stack). Nothing
    in it uses them, so their users are other stacks."""
    for resource in ctx.template.resources.values():
        if resource.type == SUBSCRIPTION:
            if ctx.targets_at(resource, "Properties", "Endpoint"):
                return False
        elif resource.type not in types and resource.type not in ACCESSORY_TYPES:
            return False
    return True


def shares_with_other_accounts(ctx: Context) -> bool:
    """A role of the stack can be assumed from another account: the stack provides its
    resources to consumers outside it."""
    return any(is_cross_account_role(ctx, r) for r in ctx.template.of_type(ROLE))


@rule(code="OUT002", name="key-resource-export", severity=Severity.INFO,
      category="outputs", resource_types=tuple(KEY_TYPES),
      options={"types": KEY_TYPES, "every_stack": False})
def key_resource_export(ctx: Context) -> Iterator[Violation]:
    """Key resource of a stack that others build on is output without an Export name.

    ## What it does
    In a stack meant to be built upon, for each resource of `types` that appears in
    `Outputs`, requires at least one of its outputs to carry `Export.Name`. The finding sits
    on the first output that refers to the resource. A stack is meant to be built upon when
    - it is a building block: every resource in it is a key resource or an accessory of one
      (a bucket, topic or queue policy, a KMS alias, an alarm, auto scaling, a subscription to
      an endpoint outside the stack), so nothing in it uses them and their users are other
      stacks; or
    - it lets another account assume one of its roles: it provides its resources beyond
      itself.

    A self-contained stack, whose users of the resource are in the same template or are
    people reading the outputs, is asked only with `every_stack`. Roles and dashboards are
    never asked: a cross-account role is assumed from another account, where
    `Fn::ImportValue` cannot reach (its ARN is copied into the other account's parameters),
    and a dashboard is read by people.

    ## Why is this bad?
    Without an export, other stacks cannot use `Fn::ImportValue`; consumers hard-code the
    value instead, and nothing stops this stack from deleting a resource still in use.

    ## Example
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
    Outputs:
      TicksArn:
        Value: !GetAtt Ticks.Arn
    ```

    ## Use instead
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 1
    Outputs:
      TicksArn:
        Value: !GetAtt Ticks.Arn
        Export:
          Name: !Sub "${AWS::StackName}-TicksArn"
    ```

    ## Options
    - `types` (list): the types whose outputs must be exported.
    - `every_stack` (default false): ask for exports in every stack, self-contained ones
      included.

    ## Known problems
    Whether other stacks import a resource is not visible in one template; a self-contained
    stack whose outputs another stack of the same account does read is not reported by
    default.

    ## References
    - [Exporting stack output values](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html)
    """
    types = frozenset(str(t) for t in ctx.option("types"))
    if not (is_true(ctx.option("every_stack")) or is_building_block(ctx, types)
            or shares_with_other_accounts(ctx)):
        return
    listed = outputs_by_resource(ctx, by_name=False)  # a console URL is not for export
    for resource in key_resources(ctx, "types"):
        if resource.type in NEVER_IMPORTED:
            continue
        names = listed.get(resource.logical_id, [])
        outputs = [ctx.template.outputs[n] for n in names]
        if outputs and not any(isinstance(o.export, dict) and o.export.get("Name") is not None
                               for o in outputs):
            yield Violation(f"Output `{outputs[0].name}` for {_noun(resource).lower()} "
                            f"`{resource.logical_id}` has no Export name", outputs[0].path)
