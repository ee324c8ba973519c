"""What an identity-policy statement really reaches: one place for the IAM rules' judgement.

- `STAR_ONLY_ACTIONS`: actions that are granted on `Resource: "*"` by nature: actions without
  resource-level permissions (Service Authorization Reference), the Session Manager agent's
  channel services (`ssmmessages`, `ec2messages`: nothing but the channel), read-only metadata
  calls, and the statements AWS itself grants on `*` in the managed policies that templates
  copy (Lambda basic execution logging, vended-log delivery, the ECS instance and service
  roles). IAM001 accepts a service wildcard over such a service, IAM002 accepts these on `*`.
- `scoped_by_condition`: a `*` resource narrowed by a condition on the resource itself
  (`kms:RequestAlias`, `aws:ResourceTag/...`, `s3:prefix`, ...) does not reach everything.
- `broad_writes` / `full_access_services`: an Allow that reaches data stores through wildcards,
  store-level destruction or an AWS full-access policy, the only case where an explicit Deny
  guardrail (IAM003) constrains something a least-privilege Allow does not already exclude.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import NO_CONDITIONS, Scenario
from cfnaudit.policy import (
    DATA_STORE_WRITE_ACTIONS,
    action_matches,
    actions_of,
    allows_action,
    conditions_of,
)

if TYPE_CHECKING:
    from cfnaudit.template import Template

# Logging actions of AWS's basic-execution policies (AWSLambdaBasicExecutionRole and the
# logging roles of AppSync, Transfer Family, Pipes...), granted there on `*`.
BASIC_LOGGING = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
# CloudWatch Logs vended-log delivery (Step Functions, API Gateway, ...): `*` only.
LOG_DELIVERY = ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies")
# AmazonEC2ContainerServiceforEC2Role (the container agent) and the ECS service role
# (AmazonEC2ContainerServiceRole / AmazonECSServiceRolePolicy), granted on `*`: the agent
# registers into clusters, the service attaches interfaces and targets ECS creates itself.
ECS_MANAGED = ("ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:Poll",
               "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession",
               "ecs:UpdateContainerInstancesState", "ecs:Submit*",
               "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
               "ecr:BatchGetImage", "ec2:AttachNetworkInterface",
               "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterfacePermission",
               "ec2:DetachNetworkInterface",
               "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
               "elasticloadbalancing:DeregisterTargets",
               "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
               "elasticloadbalancing:RegisterTargets")

STAR_ONLY_ACTIONS: tuple[str, ...] = (
    "cloudwatch:PutMetricData", "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics",
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSampling*",
    "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses", "s3:ListAllMyBuckets", "sts:GetCallerIdentity",
    "ecr:GetAuthorizationToken", "secretsmanager:GetRandomPassword", "tag:GetResources",
    "ecs:DiscoverPollEndpoint", "ssmmessages:*", "ec2messages:*", "*:List*", "*:Describe*",
    # the SSM agent's heartbeat (AmazonSSMManagedInstanceCore grants it on `*`), and Config
    # rule results, which have no resource-level permissions
    "ssm:UpdateInstanceInformation", "config:PutEvaluations",
    *BASIC_LOGGING, *LOG_DELIVERY, *ECS_MANAGED,
)


def accepts_star(action: str, allowed: tuple[str, ...] = STAR_ONLY_ACTIONS) -> bool:
    """Is `action` (also a wildcard such as `ssmmessages:*`) covered by the allowlist?"""
    return any(action_matches(pattern, action) for pattern in allowed)


# Condition keys that name or select the resource a request acts on (`*` in `Resource` is
# then narrowed to what they match), besides every `<service>:ResourceTag/<key>`.
SCOPING_KEYS = ("kms:RequestAlias", "kms:ResourceAliases", "s3:prefix",
                "secretsmanager:SecretId")
_POSITIVE = ("StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike")


def _scoping_key(key: str) -> bool:
    """A listed key, or a resource-tag key of any service (`aws:ResourceTag/team`)."""
    lowered = key.lower()
    return lowered in (k.lower() for k in SCOPING_KEYS) or ":resourcetag/" in lowered


def scoped_by_condition(statement: Mapping[str, Any], template: Template | None = None,
                        scenario: Scenario = NO_CONDITIONS) -> bool:
    """A condition that must match (no `IfExists`, no negation) narrows the resource: the
    statement does not reach every resource even with `Resource: "*"`."""
    return any(c.base in _POSITIVE and not c.if_exists and c.values and _scoping_key(c.key)
               for c in conditions_of(statement, template, scenario))


# Store-level actions that destroy or unprotect a whole store (not one object or item).
DESTRUCTIVE_ACTIONS = ("s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy",
                       "s3:PutBucketAcl", "s3:PutBucketVersioning", "s3:DeleteObjectVersion",
                       "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration",
                       "dynamodb:DeleteTable", "dynamodb:UpdateTable",
                       "kinesis:DeleteStream", "kinesis:DecreaseStreamRetentionPeriod",
                       "firehose:DeleteDeliveryStream", "sqs:DeleteQueue", "sqs:PurgeQueue",
                       "sns:DeleteTopic")


def broad_writes(statement: Mapping[str, Any], service: str) -> tuple[str, ...]:
    """The write actions of `service` this Allow statement grants broadly: through an action
    wildcard (`s3:*`, `s3:Put*`, `*`, `NotAction`), or store-level destruction
    (`s3:DeleteBucket`, `dynamodb:DeleteTable`, ...). Empty for a least-privilege list of
    object or item writes (`s3:PutObject`, `dynamodb:PutItem`)."""
    writes = [a for a in DATA_STORE_WRITE_ACTIONS.get(service, ()) if allows_action(statement, a)]
    if "NotAction" in statement:
        return tuple(writes)
    wildcards = [p for p in actions_of(statement) if "*" in p or "?" in p]
    return tuple(a for a in writes if a in DESTRUCTIVE_ACTIONS
                 or any(action_matches(p, a) for p in wildcards))


# AWS-managed policies that grant everything.
_ADMINISTRATOR = ("/AdministratorAccess", "/PowerUserAccess")


def full_access_services(policy_arn: str) -> frozenset[str]:
    """The data-store services (keys of DATA_STORE_WRITE_ACTIONS) an AWS-managed policy
    grants in full: every one for `AdministratorAccess` and `PowerUserAccess`, `s3` for
    `AmazonS3FullAccess`, none for a customer policy or a narrower managed one."""
    text = policy_arn.strip()
    if ":iam::aws:policy/" not in text:
        return frozenset()
    if text.endswith(_ADMINISTRATOR):
        return frozenset(DATA_STORE_WRITE_ACTIONS)
    name = text.rsplit("/", 1)[-1].lower()
    if not name.endswith("fullaccess"):
        return frozenset()
    return frozenset(s for s in DATA_STORE_WRITE_ACTIONS if name == f"amazon{s}fullaccess")
