"""Log retention: log groups expire their events, functions log to a group of the stack.

A function's log group is matched by name. Names are compared in two forms: resolved
(parameter defaults and literals) and rendered, where every reference is written as
`${Name}` (`Ref`), `${Name.Attr}` (`GetAtt`) and `Fn::Sub`/`Fn::Join` are spelled out, so
`!Sub /aws/lambda/${Loader}`, `!Join ["", ["/aws/lambda/", !Ref Loader]]` and the
literal `/aws/lambda/<FunctionName>` all find the same group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Purpose,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    rule,
)

LOG_GROUP = "AWS::Logs::LogGroup"
FUNCTION = "AWS::Lambda::Function"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def render(value: Any) -> str | None:
    """`value` as text with references written `${Name}`; None for other intrinsics."""
    if isinstance(value, str):
        return value
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    (key, arg), = value.items()
    if key == "Ref" and isinstance(arg, str):
        return "${" + arg + "}"
    if key == "Fn::GetAtt":
        parts = arg.split(".", 1) if isinstance(arg, str) else arg
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
            return "${" + ".".join(parts) + "}"
        return None
    if key == "Fn::Sub":
        return _render_sub(arg)
    if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
            and isinstance(arg[0], str) and isinstance(arg[1], list):
        pieces = [render(item) for item in arg[1]]
        return None if any(p is None for p in pieces) else arg[0].join(
            p for p in pieces if p is not None)
    return None


def _render_sub(arg: Any) -> str | None:
    if isinstance(arg, str):
        return arg
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)
            and isinstance(arg[1], dict)):
        return None
    local = {name: render(value) for name, value in arg[1].items()}
    if any(v is None for v in local.values()):
        return None
    return _SUB_VARIABLE.sub(lambda m: local.get(m.group(1).strip()) or m.group(0), arg[0])


def _names(ctx: Context, value: Any) -> set[str]:
    """The rendered and the resolved form of a name (those that exist)."""
    forms = {render(value)}
    resolved = ctx.resolve(value)
    if isinstance(resolved, str):
        forms.add(resolved)
    return {f for f in forms if f}


# -------------------------------------------------------------------------------- LOG001


@rule(code="LOG001", name="log-group-retention", severity=Severity.WARNING,
      category="logging", resource_types=(LOG_GROUP,))
def log_group_retention(ctx: Context) -> Iterator[Violation]:
    """Log group keeps its events forever.

    ## What it does
    Checks that every `AWS::Logs::LogGroup` sets `RetentionInDays`, in every condition
    scenario; a parameter without a default is reported as unknown.

    ## Why is this bad?
    Without a retention period, log events never expire: storage cost grows every day the
    pipeline runs, and logs that may contain record-level data are kept past any retention
    policy the business has promised.

    ## Example
    ```yaml
    Resources:
      LoaderLogs:
        Type: AWS::Logs::LogGroup
        Properties:
          LogGroupName: /aws/lambda/loader
    ```

    ## Use instead
    ```yaml
    Resources:
      LoaderLogs:
        Type: AWS::Logs::LogGroup
        Properties:
          LogGroupName: /aws/lambda/loader
          RetentionInDays: 90
    ```

    ## References
    - [Change log data retention in CloudWatch Logs](https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention)
    - [AWS::Logs::LogGroup](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-loggroup.html)
    """
    for group in ctx.resources():
        yield from ctx.each_variant(group, lambda v, g=group: _check_retention(
            ctx, g, v.scenario, v.properties))


def _check_retention(ctx: Context, group: Resource, scenario: Scenario,
                     props: Mapping[str, Any]) -> Iterator[Violation]:
    if "RetentionInDays" not in props:
        yield Violation(f"Log group `{group.logical_id}` has no retention period", group.path)
        return
    value = ctx.resolve(props["RetentionInDays"], scenario)
    if isinstance(value, Unresolved):
        yield Violation(f"Retention of log group `{group.logical_id}` cannot be checked "
                        f"because {value.reason}", group.at("Properties", "RetentionInDays"))


# -------------------------------------------------------------------------------- LOG002


@rule(code="LOG002", name="lambda-explicit-log-group", severity=Severity.WARNING,
      category="logging", resource_types=(FUNCTION,))
def lambda_log_group(ctx: Context) -> Iterator[Violation]:
    """Function logs to a log group the stack does not manage.

    ## What it does
    Checks that every `AWS::Lambda::Function` has its log group in the template: an
    `AWS::Logs::LogGroup` whose `LogGroupName` is `/aws/lambda/<function name>` (written with
    `Fn::Sub`, `Fn::Join`, a `Ref` to the function, or the literal `FunctionName`), or the
    group named by the function's `LoggingConfig.LogGroup`. The group's retention is
    LOG001's concern. Functions that run at CloudFront edges or on Greengrass cores (found
    through the graph) log elsewhere (`/aws/lambda/us-east-1.<name>` in the edge regions, or
    on the device) and are left out.

    ## Why is this bad?
    Without an explicit group, Lambda creates `/aws/lambda/<name>` on the first invocation,
    with no retention (logs kept forever), no encryption key and no tags, and it survives the
    stack. Declaring the group puts retention and ownership under review.

    ## Example
    ```yaml
    Resources:
      Loader:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/loader
          Code: {ZipFile: "def handler(e, c): pass"}
    ```

    ## Use instead
    ```yaml
    Resources:
      Loader:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/loader
          Code: {ZipFile: "def handler(e, c): pass"}
      LoaderLogs:
        Type: AWS::Logs::LogGroup
        Properties:
          LogGroupName: !Sub /aws/lambda/${Loader}
          RetentionInDays: 90
    ```

    ## Known problems
    A `LoggingConfig.LogGroup` that names a group outside the template is accepted: it was
    chosen on purpose and is managed elsewhere.

    ## References
    - [Lambda function logs in CloudWatch Logs](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html)
    - [AWS::Lambda::Function LoggingConfig](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-loggingconfig.html)
    """
    groups: dict[str, Resource] = {}
    for group in ctx.template.of_type(LOG_GROUP):
        for name in _names(ctx, group.properties.get("LogGroupName")):
            groups.setdefault(name, group)
    for function in ctx.resources():
        if not ctx.role(function).has(Purpose.EDGE):
            yield from ctx.each_variant(function, lambda v, f=function: _check_function_group(
                ctx, f, v.properties, groups))


def _check_function_group(ctx: Context, function: Resource, props: Mapping[str, Any],
                          groups: Mapping[str, Resource]) -> Iterator[Violation]:
    logging = props.get("LoggingConfig")
    if isinstance(logging, dict) and logging.get("LogGroup"):
        return  # a group of the stack (Ref) or one managed elsewhere, chosen on purpose
    candidates = {"/aws/lambda/${" + function.logical_id + "}"}
    if props.get("FunctionName") is not None:
        candidates |= {"/aws/lambda/" + n for n in _names(ctx, props["FunctionName"])}
    for name in candidates:
        if name in groups:
            ctx.examine(groups[name])
            return
    yield Violation(f"Function `{function.logical_id}` has no log group in the stack, so "
                    "Lambda creates one that keeps logs forever", function.path)
