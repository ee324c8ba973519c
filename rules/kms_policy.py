"""KMS key policies (category `kms-key-policy`, codes KMS002-KMS004).

KMS002 derives from the resource graph which AWS services use a key (log groups, encrypted
topics and queues and whoever publishes to them) and checks the key policy lets each of them
use it. KMS003 checks statements that reach other accounts; KMS004 statements whose principal
or condition disappears in some condition scenario.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Scenario,
    Severity,
    Variant,
    Violation,
    allows_action,
    conditions_of,
    effect_of,
    fold,
    located_statements,
    principals_of,
    rule,
)

Path = tuple[str | int, ...]
KEY = ("AWS::KMS::Key",)
SERVICE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
CROSS_ACCOUNT_KEYS = ("kms:ViaService", "kms:CallerAccount")

# ------------------------------------------------------------------------ KMS002 services


@dataclass(frozen=True, slots=True)
class Need:
    """A service principal that must use the key, and why (for the message)."""

    principal: str
    pattern: re.Pattern[str]
    reason: str


def _service(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(name) + r"\Z", re.IGNORECASE)


LOGS = re.compile(r"logs\.[^.]+\.amazonaws\.com\Z", re.IGNORECASE)  # regional principal only
GLOBAL_LOGS = _service("logs.amazonaws.com")
CLOUDWATCH = _service("cloudwatch.amazonaws.com")
EVENTS = _service("events.amazonaws.com")
S3 = _service("s3.amazonaws.com")
SNS = _service("sns.amazonaws.com")

ALARMS = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def _users(ctx: Context, key: Resource, types: tuple[str, ...], prop: str) -> list[Resource]:
    """Resources of `types` that name the key (directly or through an alias) in `prop`."""
    holders = [key, *ctx.referring_resources(key, types=("AWS::KMS::Alias",),
                                             under=("Properties", "TargetKeyId"))]
    found: list[Resource] = []
    for holder in holders:
        for user in ctx.referring_resources(holder, types=types, under=("Properties", prop)):
            if user not in found:
                ctx.examine(user)
                found.append(user)
    return found


def _publishers(ctx: Context, target: Resource, noun: str) -> Iterator[Need]:
    """Services that deliver to an encrypted topic or queue."""
    for alarm in ctx.referring_resources(target, types=ALARMS, under=("Properties",)):
        if target.type == "AWS::SNS::Topic":
            yield Need("cloudwatch.amazonaws.com", CLOUDWATCH,
                       f"alarm `{alarm.logical_id}` publishes to {noun}")
    for events_rule in ctx.referring_resources(target, types=("AWS::Events::Rule",),
                                               under=("Properties", "Targets")):
        yield Need("events.amazonaws.com", EVENTS,
                   f"EventBridge rule `{events_rule.logical_id}` targets {noun}")
    for bucket in ctx.referring_resources(target, types=("AWS::S3::Bucket",),
                                          under=("Properties", "NotificationConfiguration")):
        yield Need("s3.amazonaws.com", S3,
                   f"bucket `{bucket.logical_id}` sends notifications to {noun}")
    if target.type == "AWS::SQS::Queue":
        topics = ctx.referring_resources(target, types=("AWS::SNS::Topic",),
                                         under=("Properties", "Subscription"))
        for subscription in ctx.referring_resources(target, types=("AWS::SNS::Subscription",),
                                                    under=("Properties", "Endpoint")):
            topics += ctx.targets_at(subscription, "Properties", "TopicArn",
                                     types=("AWS::SNS::Topic",))
        for name in dict.fromkeys(t.logical_id for t in topics):
            yield Need("sns.amazonaws.com", SNS, f"topic `{name}` delivers to {noun}")


def services_needed(ctx: Context, key: Resource) -> dict[str, list[Need]]:
    """Service principal -> the needs found in the graph, in template order."""
    needs: list[Need] = []
    for group in _users(ctx, key, ("AWS::Logs::LogGroup",), "KmsKeyId"):
        needs.append(Need("logs.<region>.amazonaws.com", LOGS,
                          f"log group `{group.logical_id}` encrypts with it"))
    for topic in _users(ctx, key, ("AWS::SNS::Topic",), "KmsMasterKeyId"):
        needs.extend(_publishers(ctx, topic, f"encrypted topic `{topic.logical_id}`"))
    for queue in _users(ctx, key, ("AWS::SQS::Queue",), "KmsMasterKeyId"):
        needs.extend(_publishers(ctx, queue, f"encrypted queue `{queue.logical_id}`"))
    grouped: dict[str, list[Need]] = {}
    for need in needs:
        if need not in grouped.setdefault(need.principal, []):
            grouped[need.principal].append(need)
    return grouped


def _granted(statements: list[Mapping[str, Any]], pattern: re.Pattern[str]) -> bool:
    """Do Allow statements for the service (or an unconditioned `*`) cover both actions?"""
    covered: set[str] = set()
    for statement in statements:
        if effect_of(statement) != "Allow":
            continue
        principals = principals_of(statement)
        if not any((p.kind == "Service" and pattern.match(p.text))
                   or (p.is_everyone and "Condition" not in statement) for p in principals):
            continue
        covered.update(a for a in SERVICE_ACTIONS if allows_action(statement, a))
    return covered == set(SERVICE_ACTIONS)


def _service_violations(ctx: Context, key: Resource, needed: dict[str, list[Need]],
                        v: Variant) -> Iterator[Violation]:
    document = v.properties.get("KeyPolicy")
    path = key.at("Properties", "KeyPolicy") if document is not None else key.path
    statements = [s for _, s in located_statements(document, ())]
    for principal, needs in needed.items():
        if _granted(statements, needs[0].pattern):
            continue
        reasons = "; ".join(n.reason for n in needs)
        global_logs = needs[0].pattern is LOGS and _granted(statements, GLOBAL_LOGS)
        hint = (" (it grants the global `logs.amazonaws.com`; CloudWatch Logs documents the "
                "regional principal)" if global_logs else "")
        yield Violation(f"Key `{key.logical_id}` policy does not let `{principal}` use it "
                        f"(`kms:Decrypt`, `kms:GenerateDataKey*`){hint}: {reasons}", path,
                        key=principal)


@rule(code="KMS002", name="kms-key-policy-service-principals", severity=Severity.ERROR,
      category="kms-key-policy", resource_types=KEY, security=True)
def key_policy_service_principals(ctx: Context) -> Iterator[Violation]:
    """Key policy does not let the AWS services that use the key encrypt and decrypt with it.

    ## What it does
    Follows the resource graph (directly or through an `AWS::KMS::Alias`) to find which
    services use each key, and checks that an `Allow` statement of the key policy grants
    that service principal `kms:Decrypt` and `kms:GenerateDataKey*` (or a wildcard covering
    them, possibly over several statements):

    - `logs.<region>.amazonaws.com` for a log group with `KmsKeyId` (the regional principal,
      `!Sub logs.${AWS::Region}.amazonaws.com`, as CloudWatch Logs requires);
    - `cloudwatch.amazonaws.com` when an alarm publishes to an SNS topic encrypted with it;
    - `events.amazonaws.com` when an EventBridge rule targets such a topic or queue;
    - `s3.amazonaws.com` when bucket notifications go to such a topic or queue;
    - `sns.amazonaws.com` when a topic delivers to a queue encrypted with it.

    Each missing principal is one finding naming the resources that need it.

    ## Why is this bad?
    The deployment succeeds, but nothing arrives: CloudWatch Logs refuses to associate the
    key, alarms fail to notify, events and S3 notifications are dropped, and SNS cannot
    deliver to the queue. Failures are silent until an incident shows the alarm never fired.

    ## Example
    ```yaml
    Resources:
      AlertKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
      Alerts:
        Type: AWS::SNS::Topic
        Properties:
          KmsMasterKeyId: !Ref AlertKey
      Errors:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Errors
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
          AlarmActions: [!Ref Alerts]
    ```

    ## Use instead
    ```yaml
    Resources:
      AlertKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
              - Effect: Allow
                Principal: {Service: cloudwatch.amazonaws.com}
                Action: [kms:Decrypt, kms:GenerateDataKey*]
                Resource: "*"
      Alerts:
        Type: AWS::SNS::Topic
        Properties:
          KmsMasterKeyId: !Ref AlertKey
      Errors:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Errors
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
          AlarmActions: [!Ref Alerts]
    ```

    ## Known problems
    Only uses visible in the stack are found; a key used by other stacks needs its grants
    checked there. An unconditioned `Principal: "*"` statement counts as a grant (KMS003
    reports it).

    ## References
    - [Encrypt log data in CloudWatch Logs using AWS KMS](https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)
    - [Key policy for SNS topics used by CloudWatch alarms and EventBridge](https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)
    - [SQS: key policy for SNS, S3 and EventBridge senders](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html)
    """
    for key in ctx.resources():
        needed = services_needed(ctx, key)
        if needed:
            yield from ctx.each_variant(key, lambda v, k=key, n=needed: _service_violations(
                ctx, k, n, v))


# ------------------------------------------------------------------- KMS003 cross-account


def _cross_account(ctx: Context, key: Resource, v: Variant) -> Iterator[Violation]:
    stack_account = str(ctx.option("stack_account_id"))
    base = key.at("Properties", "KeyPolicy")
    for path, statement in located_statements(v.properties.get("KeyPolicy"), base):
        if effect_of(statement) != "Allow":
            continue
        outsiders = [p for p in principals_of(statement, ctx.template, v.scenario)
                     if p.is_other_account(stack_account)]
        if not outsiders:
            continue
        conditions = conditions_of(statement, ctx.template, v.scenario)
        who = ", ".join(f"`{p.text}`" for p in outsiders)
        if any(p.is_everyone for p in outsiders) and not conditions:
            yield Violation(f"Key `{key.logical_id}` policy grants every AWS principal "
                            "(`*`) without any condition", path, severity=Severity.ERROR)
        elif not any(c.key_is(k) for c in conditions for k in CROSS_ACCOUNT_KEYS):
            yield Violation(f"Key `{key.logical_id}` policy grants {who} in another account "
                            "without a `kms:ViaService` or `kms:CallerAccount` condition", path)


@rule(code="KMS003", name="kms-cross-account-conditions", severity=Severity.ERROR,
      category="kms-key-policy", resource_types=KEY, options={"stack_account_id": ""},
      security=True)
def cross_account_conditions(ctx: Context) -> Iterator[Violation]:
    """Key policy grants another account without restricting how the key is used.

    ## What it does
    Finds `Allow` statements of a key policy whose principal may be in another account: a
    literal account id or ARN other than the stack's (`${AWS::AccountId}`, `!Ref
    AWS::AccountId`, roles created in the stack), an account from a parameter (with or
    without a default), an import, or `*`. Each must carry a `kms:ViaService` (use only
    through a named service, e.g. `s3.eu-west-1.amazonaws.com`) or `kms:CallerAccount`
    condition, under any operator. `Principal: "*"` without any condition is an error; the
    rest are warnings. Every statement is checked, in every condition scenario.

    ## Why is this bad?
    A bare cross-account grant lets the other account use the key directly, for any data
    and through any service, outside the path the data sharing was designed for. With
    `Principal: "*"` and no condition any AWS account can use the key.

    ## Example
    ```yaml
    Parameters:
      ConsumerAccount: {Type: String, Default: "111122223333"}
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: [kms:Decrypt, kms:DescribeKey]
                Resource: "*"
    ```

    ## Use instead
    ```yaml
    Parameters:
      ConsumerAccount: {Type: String, Default: "111122223333"}
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: [kms:Decrypt, kms:DescribeKey]
                Resource: "*"
                Condition:
                  StringEquals: {kms:ViaService: !Sub "s3.${AWS::Region}.amazonaws.com"}
    ```

    ## Options
    - `stack_account_id` (default empty): the account the stack deploys to; literal
      principals in this account are not treated as cross-account.

    ## References
    - [kms:ViaService condition key](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)
    - [Allowing users in other accounts to use a KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html)
    """
    for key in ctx.resources():
        yield from ctx.each_variant(key, lambda v, k=key: _cross_account(ctx, k, v))


# ------------------------------------------------------------------------ KMS004 vanishing


def _shape(statement: Any) -> tuple[bool, set[str]]:
    """(has a principal, condition keys with values) of a branched statement."""
    if not isinstance(statement, dict):
        return False, set()
    principal = bool(principals_of(statement))
    keys = {c.key for c in conditions_of(statement) if c.values}
    return principal, keys


def _vanishing(ctx: Context, key: Resource, raw: Mapping[str, Any], path: Path
               ) -> Iterator[Violation]:
    variants = [(s, b) for s, b in ctx.variants_of(key, raw) if isinstance(b, dict)]
    if len(variants) < 2:
        return  # no condition changes the statement
    shapes = [(s, _shape(b)) for s, b in variants]
    all_keys = set().union(*(keys for _, (_, keys) in shapes))
    had_principal = "Principal" in raw or any(p for _, (p, _) in shapes)
    found: list[tuple[Scenario, list[Violation]]] = []
    for scenario, (principal, keys) in shapes:
        problems = []
        if had_principal and not principal:
            problems.append(Violation(f"Key `{key.logical_id}` policy statement has no "
                                      "principal", path, key="principal"))
        for name in sorted(all_keys - keys):
            problems.append(Violation(f"Key `{key.logical_id}` policy statement loses its "
                                      f"`{name}` condition", path, key=name))
        if "Condition" in raw and not keys and not all_keys:
            problems.append(Violation(f"Key `{key.logical_id}` policy statement loses its "
                                      "condition", path, key="condition"))
        found.append((scenario, problems))
    yield from fold(found)


def _statement_items(document: Any, base: Path) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    if not isinstance(document, dict):
        return
    raw = document.get("Statement")
    if isinstance(raw, dict):
        yield (*base, "Statement"), raw
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, dict):
                yield (*base, "Statement", i), item


@rule(code="KMS004", name="kms-policy-statement-vanishes", severity=Severity.ERROR,
      category="kms-key-policy", resource_types=KEY, security=True)
def statement_vanishes(ctx: Context) -> Iterator[Violation]:
    """Key policy statement loses its principal or a condition in some condition scenario.

    ## What it does
    Reads every statement of a key policy in each condition scenario and reports a statement
    whose `Principal`, or one of whose condition keys, is removed in some scenarios only
    (typically `!If [Cond, X, !Ref AWS::NoValue]` on the principal or on a condition). The
    finding names the scenario. A statement that disappears as a whole is fine.

    ## Why is this bad?
    Without its principal the statement is invalid and the stack update fails in that
    environment only; without its condition the statement silently grants more than
    intended, e.g. a cross-account grant that is no longer limited to `kms:ViaService`.

    ## Example
    ```yaml
    Parameters:
      Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: "*"}
                Action: kms:Decrypt
                Resource: "*"
                Condition:
                  StringEquals:
                    kms:CallerAccount: !If [IsProd, "111122223333", !Ref AWS::NoValue]
    ```

    ## Use instead
    ```yaml
    Parameters:
      Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - !If
                - IsProd
                - Effect: Allow
                  Principal: {AWS: "*"}
                  Action: kms:Decrypt
                  Resource: "*"
                  Condition: {StringEquals: {kms:CallerAccount: "111122223333"}}
                - !Ref AWS::NoValue
    ```

    ## References
    - [Key policies in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html)
    - [Condition functions: Fn::If and AWS::NoValue](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html)
    """
    for key in ctx.resources():
        base = key.at("Properties", "KeyPolicy")
        for path, raw in _statement_items(key.properties.get("KeyPolicy"), base):
            yield from _vanishing(ctx, key, raw, path)
