"""Physical naming conventions (category `naming`).

Whether a name needs the region comes from the core's roles (`Roles.has_global_name`): names
of S3 buckets, IAM roles, policies, users, groups and instance profiles, CloudFront resources
and DynamoDB global tables live in one namespace for every region, so a second region's
deployment collides unless the name carries the region. Regional names (queues, tables,
functions, log groups...) are unique per region already and need the environment only,
unless `region_everywhere` is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Severity,
    Variant,
    Violation,
    referenced_names,
    rule,
)

# The property that sets each type's explicit physical name.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::CloudFront::Function": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Glue::Job": "Name",
    "AWS::Glue::Crawler": "Name",
    "AWS::Glue::Trigger": "Name",
    "AWS::Glue::SecurityConfiguration": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::EC2::SecurityGroup": "GroupName",
}

REGION = "AWS::Region"
# Types whose names are unique within their VPC only.
VPC_SCOPED = ("AWS::EC2::SecurityGroup",)
# A stack name is unique per account and region, and each environment is its own stack: a name
# built from it cannot collide between environments.
STACK_NAME = "AWS::StackName"


def sketch(value: Any) -> str:
    """The name as Fn::Sub-style text: literals as they are, references as `${Name}`."""
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return "${" + arg + "}"
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return "${" + ".".join(str(p) for p in parts) + "}"
        if key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            return text if isinstance(text, str) else "${?}"
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
                and isinstance(arg[1], list):
            return str(arg[0]).join(sketch(v) for v in arg[1])
    return "${?}"


def _chosen_by_deployer(ctx: Context, value: Any) -> bool:
    """The whole name is one string parameter (`!Ref BucketName`, `!Sub "${BucketName}"`):
    the deployer picks it for each deployment, region and environment included."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        name = arg if key == "Ref" else (
            arg[2:-1] if key == "Fn::Sub" and isinstance(arg, str) and arg.startswith("${")
            and arg.endswith("}") and arg.count("${") == 1 else None)
        parameter = ctx.template.parameters.get(name) if isinstance(name, str) else None
        return parameter is not None and "List" not in parameter.type
    return False


def _in_stack_vpc(ctx: Context, resource: Resource, variant: Variant) -> bool:
    """A security group of a VPC the stack creates: its name is unique within that VPC."""
    target = ctx.ref_target(variant.properties.get("VpcId"))
    return target is not None and ctx.template.resources[target].type == "AWS::EC2::VPC"


def _check(ctx: Context, convention: Convention, resource: Resource, name_property: str,
           variant: Variant) -> Iterator[Violation]:
    value = variant.properties.get(name_property)
    if value is None:
        return  # a generated name is unique per stack and region
    path = resource.at("Properties", name_property)
    refs = referenced_names(value)
    if any(r in ctx.template.resources for r in refs):
        return  # derived from another resource's name (`/aws/lambda/${Fn}`): checked there
    lacking = []
    if not _chosen_by_deployer(ctx, value) and not ctx.roles.name_fixed_by_aws(
            resource, name_property) and not (
            resource.type in VPC_SCOPED and _in_stack_vpc(ctx, resource, variant)):
        lacking = list(_missing_parts(ctx, convention, resource, refs))
    if lacking:
        yield Violation(f"{name_property} of `{resource.logical_id}` does not include "
                        + " and ".join(lacking), path, key="|".join(lacking))
    pattern = str(ctx.option("pattern"))
    if pattern:
        text = sketch(value)
        if not re.fullmatch(pattern, text):
            yield Violation(f"{name_property} of `{resource.logical_id}` (`{text}`) does not "
                            f"match the naming pattern `{pattern}`", path, key="pattern")


@dataclass(frozen=True)
class Convention:
    """What the template's names must carry, decided once per template."""

    environment: tuple[str, ...]  # the environment parameters (roles), in template order
    require_environment: bool
    region_everywhere: bool
    pinned_region: str | None


def _convention(ctx: Context) -> Convention:
    roles = ctx.roles
    return Convention(
        tuple(roles.environment_parameters(str(p) for p in ctx.option("environment_parameters"))),
        bool(ctx.option("require_environment")), bool(ctx.option("region_everywhere")),
        roles.pinned_region())


def _missing_parts(ctx: Context, convention: Convention, resource: Resource, refs: set[str]
                   ) -> Iterator[str]:
    needs_region = ctx.roles.has_global_name(resource) or convention.region_everywhere
    if needs_region and REGION not in refs and convention.pinned_region is None:
        yield "the region (`${AWS::Region}`)"
    environment = convention.environment
    if not environment and not convention.require_environment:
        return  # no environment concept: one deployment per account and region
    if STACK_NAME not in refs and not any(p in refs for p in environment):
        declared = [f"`{p}`" for p in environment]
        yield ("the environment parameter (" + " or ".join(declared) + ")" if declared
               else "an environment (the template has no environment parameter)")


@rule(code="NAM001", name="physical-name-region-environment", severity=Severity.INFO,
      category="naming", resource_types=tuple(NAME_PROPERTIES),
      options={"environment_parameters": [], "require_environment": False,
               "pattern": "", "region_everywhere": False})
def physical_name_region_environment(ctx: Context) -> Iterator[Violation]:
    """Explicit physical name leaves out the environment, or the region of a global name.

    ## What it does
    For resources with an explicit physical name (`BucketName`, `FunctionName`, `TableName`,
    Kinesis `Name`, `QueueName`, `TopicName`, `RoleName`, `AlarmName`, `LogGroupName`, Glue
    job `Name` and more; see the table in the rule file), requires the name to refer to the
    template's environment parameter or to `AWS::StackName` (each environment is its own
    stack, and a stack name is unique per account and region), through `Ref`, `Fn::Sub` or
    inside `Fn::Join`, in every condition scenario. Environment parameters are recognised by
    the core's roles: the usual names (`Env`, `EnvName`, `EnvType`, `Environment`,
    `EnvironmentName`, `Stage`, `StageName`..., any case), allowed values that are
    environments (two or more of dev, test, staging, prod...), and `environment_parameters`.
    A template with no environment parameter is deployed once per account and region: its
    names are not asked for an environment unless `require_environment` is set.

    Names that are global or shared across regions (S3 buckets, IAM roles, managed
    policies, users, groups and instance profiles, CloudFront functions, CloudWatch
    dashboards, DynamoDB global tables) must also refer to `AWS::Region`; regional names
    need it only with `region_everywhere`, and no name needs it in a stack pinned to one
    region (one holding a Lambda@Edge function deploys only in us-east-1).

    Left alone: a name that is wholly one string parameter (`!Ref BucketName`; the deployer
    picks it per deployment, and a site bucket must equal its domain), a security group's
    `GroupName` in a VPC the stack creates (unique within that VPC), names an AWS service
    requires verbatim (the DMS roles `dms-vpc-role`, `dms-cloudwatch-logs-role`), and names
    derived from another resource of the stack (`/aws/lambda/${Function}`, checked there).
    With `pattern` set, the name, written as Sub text (`raw-${Environment}-${AWS::Region}`),
    must also match that regular expression.

    ## Why is this bad?
    Global names without the region collide when the stack is deployed to a second region
    (a bucket or IAM role name exists once for all regions), and names without the
    environment collide between dev and
    prod in one account, or worse, let a dev deployment update prod's resources. Operators
    also read the environment off the name during an incident.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: market-data-raw
    ```

    ## Use instead
    ```yaml
    Parameters:
      Environment: {Type: String, Default: dev}
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: !Sub "market-data-raw-${Environment}-${AWS::Region}-${AWS::AccountId}"
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
      ValidatorLogs:
        Type: AWS::Logs::LogGroup
        Properties:
          LogGroupName: !Sub "/aws/lambda/${Validator}"
    ```

    ## Options
    - `environment_parameters` (list, default empty): more parameter names that carry the
      environment, beside the ones recognised by name and allowed values.
    - `require_environment` (default false): ask for an environment also in templates that
      have no environment parameter.
    - `pattern` (string, default empty: off): a regular expression the whole name, written as
      Sub text, must match, e.g. `[a-z0-9-]+-\\$\\{Environment\\}-\\$\\{AWS::Region\\}`.
    - `region_everywhere` (default false): require the region in regional names too (for
      teams whose convention puts it in every name).

    ## Known problems
    Names of Glue databases and tables are not checked (their names cannot contain the
    hyphens of a region). A name built from a parameter together with other text
    (`${AppName}-data`) is checked like any other: the template cannot show that the value
    will contain the region or the environment.

    ## References
    - [Name type](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html)
    """
    convention = _convention(ctx)
    for resource in ctx.resources():
        name_property = NAME_PROPERTIES[resource.type]
        yield from ctx.each_variant(
            resource, lambda v, r=resource, p=name_property: _check(ctx, convention, r, p, v))
