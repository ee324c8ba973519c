"""Stack outputs for the resources consumers need (category `outputs`).

A resource appears in `Outputs` when an output's `Value` refers to it (`Ref`, `Fn::GetAtt`,
`Fn::Sub`), as recorded by the resource graph. IAM roles count as key resources only when
they can be assumed from another account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnaudit.rule import Context, Resource, Severity, Violation, rule, sub_variables

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


def outputs_by_resource(ctx: Context) -> dict[str, list[str]]:
    """Logical id -> names of the outputs whose Value refers to it (template order)."""
    found: dict[str, list[str]] = {}
    for edge in ctx.graph.output_edges():
        if edge.target[0] == "Resources" and edge.path[2:3] == ("Value",):
            names = found.setdefault(edge.target_id, [])
            if edge.source[1] not in names:
                names.append(edge.source[1])
    order = list(ctx.template.outputs)
    return {k: sorted(v, key=order.index) for k, v in found.items()}


def _noun(resource: Resource) -> str:
    return resource.type.split("::")[-1]


@rule(code="OUT001", name="key-resource-output", severity=Severity.INFO,
      category="outputs", resource_types=tuple(KEY_TYPES), options={"types": KEY_TYPES})
def key_resource_output(ctx: Context) -> Iterator[Violation]:
    """Key resource does not appear in the stack's Outputs.

    ## What it does
    For each resource of `types` (buckets, streams, tables, KMS keys, topics, dashboards, and
    IAM roles whose trust policy admits a principal of another account), requires an output
    whose `Value` refers to it through `Ref`, `Fn::GetAtt` or `Fn::Sub`.

    ## Why is this bad?
    Consumers, runbooks and other stacks need the generated names and ARNs. Without outputs
    they copy them from the console, and the copies go stale when the stack is replaced.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
    ```

    ## Use instead
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
    Outputs:
      RawBucketName:
        Value: !Ref Raw
        Export:
          Name: !Sub "${AWS::StackName}-RawBucketName"
    ```

    ## Options
    - `types` (list): the key resource types.

    ## References
    - [Outputs](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html)
    """
    listed = outputs_by_resource(ctx)
    for resource in key_resources(ctx, "types"):
        if resource.logical_id not in listed:
            yield Violation(f"{_noun(resource)} `{resource.logical_id}` does not appear in "
                            "Outputs", resource.path)


@rule(code="OUT002", name="key-resource-export", severity=Severity.INFO,
      category="outputs", resource_types=tuple(KEY_TYPES), options={"types": KEY_TYPES})
def key_resource_export(ctx: Context) -> Iterator[Violation]:
    """Key resource is output without an Export name.

    ## What it does
    For each resource of `types` (cross-account roles only, for IAM roles) that appears in
    `Outputs`, requires at least one of its outputs to carry `Export.Name`. The finding sits
    on the first output that refers to the resource.

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

    ## References
    - [Exporting stack output values](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html)
    """
    listed = outputs_by_resource(ctx)
    for resource in key_resources(ctx, "types"):
        names = listed.get(resource.logical_id, [])
        outputs = [ctx.template.outputs[n] for n in names]
        if outputs and not any(isinstance(o.export, dict) and o.export.get("Name") is not None
                               for o in outputs):
            yield Violation(f"Output `{outputs[0].name}` for {_noun(resource).lower()} "
                            f"`{resource.logical_id}` has no Export name", outputs[0].path)
