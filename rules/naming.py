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
# A stack name is unique per account and region, and each environment is its own stack: a name
# built from it cannot collide between environments.
STACK_NAME = "AWS::StackName"
ENVIRONMENT_WORDS = frozenset({"dev", "development", "test", "staging", "stage", "qa", "uat",
                               "prod", "production"})


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


def _environment_parameters(ctx: Context) -> list[str]:
    """The template's parameters that carry the environment: those named in the option, and
    any whose `AllowedValues` are environment names (`dev`, `prod`...)."""
    named = {str(p) for p in ctx.option("environment_parameters")}
    found = []
    for name, parameter in ctx.template.parameters.items():
        words = {str(v).lower() for v in parameter.allowed_values}
        if name in named or words & ENVIRONMENT_WORDS:
            found.append(name)
    return found


def _check(ctx: Context, resource: Resource, name_property: str, variant: Variant
           ) -> Iterator[Violation]:
    value = variant.properties.get(name_property)
    if value is None:
        return  # a generated name is unique per stack and region
    path = resource.at("Properties", name_property)
    refs = referenced_names(value)
    if any(r in ctx.template.resources for r in refs):
        return  # derived from another resource's name (`/aws/lambda/${Fn}`): checked there
    whole = value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(whole, str) and whole in ctx.template.parameters:
        return  # the whole name is the deployer's: each deployment passes its own
    environment = _environment_parameters(ctx)
    lacking = []
    needs_region = ctx.roles.has_global_name(resource) or ctx.option("region_everywhere")
    if needs_region and REGION not in refs:
        lacking.append("the region (`${AWS::Region}`)")
    # Without an environment parameter, any parameter in the name lets deployments differ.
    free = not environment and any(r in ctx.template.parameters for r in refs)
    if STACK_NAME not in refs and not free and not any(p in refs for p in environment):
        named = [str(p) for p in ctx.option("environment_parameters")]
        lacking.append("the environment parameter (" + " or ".join(f"`{p}`" for p in environment)
                       + ")" if environment
                       else f"an environment (the template has no `{named[0]}` parameter)")
    if lacking:
        yield Violation(f"{name_property} of `{resource.logical_id}` does not include "
                        + " and ".join(lacking), path, key="|".join(lacking))
    pattern = str(ctx.option("pattern"))
    if pattern:
        text = sketch(value)
        if not re.fullmatch(pattern, text):
            yield Violation(f"{name_property} of `{resource.logical_id}` (`{text}`) does not "
                            f"match the naming pattern `{pattern}`", path, key="pattern")


@rule(code="NAM001", name="physical-name-region-environment", severity=Severity.INFO,
      category="naming", resource_types=tuple(NAME_PROPERTIES),
      options={"environment_parameters": ["Environment", "EnvironmentName", "Env", "EnvName",
                                          "EnvType", "EnvironmentType",
                                          "EnvironmentSuffix", "Stage"],
               "pattern": "", "region_everywhere": False})
def physical_name_region_environment(ctx: Context) -> Iterator[Violation]:
    """Explicit physical name leaves out the environment, or the region of a global name.

    ## What it does
    For resources with an explicit physical name (`BucketName`, `FunctionName`, `TableName`,
    Kinesis `Name`, `QueueName`, `TopicName`, `RoleName`, `AlarmName`, `LogGroupName`, Glue
    job `Name` and more; see the table in the rule file), requires the name to refer to one
    of `environment_parameters` or to `AWS::StackName` (each environment is its own stack,
    and a stack name is unique per account and region), through `Ref`, `Fn::Sub` or inside
    `Fn::Join`, in every condition scenario. Names that are global or shared across
    regions (S3 buckets, IAM roles, managed policies, users, groups and instance profiles,
    CloudFront functions, CloudWatch dashboards, DynamoDB global tables) must also refer to
    `AWS::Region`; regional names need it only with `region_everywhere`. Names derived
    from another resource of the stack (`/aws/lambda/${Function}`) are left to that
    resource. With `pattern` set, the name, written as Sub text
    (`raw-${Environment}-${AWS::Region}`), must also match that regular expression.

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
    - `environment_parameters` (list, default `[Environment, EnvironmentName, Env,
      EnvironmentSuffix, Stage]`): parameter names that carry the environment.
    - `pattern` (string, default empty: off): a regular expression the whole name, written as
      Sub text, must match, e.g. `[a-z0-9-]+-\\$\\{Environment\\}-\\$\\{AWS::Region\\}`.
    - `region_everywhere` (default false): require the region in regional names too (for
      teams whose convention puts it in every name).

    A name taken whole from a parameter (`BucketName: !Ref SiteDomain`) is the deployer's
    and is not checked. An environment parameter is one named in `environment_parameters`, or
    one whose `AllowedValues` are environment names (`dev`, `test`, `staging`, `prod`...). In
    a template that has none, a name built from any parameter passes the environment part:
    each deployment can give that parameter its own value.

    ## Known problems
    Names of Glue databases and tables are not checked (their names cannot contain the
    hyphens of a region).

    ## References
    - [Name type](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html)
    """
    for resource in ctx.resources():
        name_property = NAME_PROPERTIES[resource.type]
        yield from ctx.each_variant(
            resource, lambda v, r=resource, p=name_property: _check(ctx, r, p, v))
