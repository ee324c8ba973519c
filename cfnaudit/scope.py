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

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import NO_CONDITIONS, Scenario
from cfnaudit.policy import (
    DATA_STORE_WRITE_ACTIONS,
    action_matches,
    actions_of,
    allows_action,
    conditions_of,
    effect_of,
    pattern_matches,
    principals_of,
    resources_of,
    statements,
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
    # the peering connection an accepter role accepts is created later, by the requester in
    # another account: its id cannot be written in the template (AWS's documented accepter
    # role grants exactly this on `*`); one action, it creates a route, destroys nothing
    "ec2:AcceptVpcPeeringConnection",
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


# ------------------------------------------------------------------ what a wildcard expands to

# The actions of the data-store services that matter for judging a wildcard (Service
# Authorization Reference): `s3:*Object` or `kinesis:PutRecord*` is judged by what it
# expands to here, not by its star.
KNOWN_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "s3": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectTagging",
           "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:DeleteObjectTagging",
           "s3:RestoreObject", "s3:ReplicateObject", "s3:ReplicateDelete",
           "s3:AbortMultipartUpload", "s3:ListBucket", "s3:ListBucketVersions",
           "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketVersioning",
           "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
           "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention",
           "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
           "s3:PutBucketAcl", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
           "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
           "s3:PutBucketOwnershipControls", "s3:PutBucketNotification",
           "s3:PutReplicationConfiguration", "s3:PutBucketLogging", "s3:PutBucketCORS",
           "s3:PutBucketWebsite", "s3:DeleteBucketWebsite", "s3:PutBucketObjectLockConfiguration"),
    "dynamodb": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                 "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                 "dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
                 "dynamodb:PartiQLDelete", "dynamodb:DescribeTable", "dynamodb:DeleteTable",
                 "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
                 "dynamodb:UpdateContinuousBackups", "dynamodb:DeleteBackup",
                 "dynamodb:RestoreTableFromBackup", "dynamodb:PutResourcePolicy",
                 "dynamodb:DeleteResourcePolicy"),
    "kinesis": ("kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords",
                "kinesis:GetShardIterator", "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:SubscribeToShard",
                "kinesis:DeleteStream", "kinesis:MergeShards", "kinesis:SplitShard",
                "kinesis:UpdateShardCount", "kinesis:UpdateStreamMode",
                "kinesis:DecreaseStreamRetentionPeriod", "kinesis:StopStreamEncryption",
                "kinesis:DeregisterStreamConsumer", "kinesis:PutResourcePolicy",
                "kinesis:DeleteResourcePolicy"),
    "sqs": ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
            "sqs:SetQueueAttributes", "sqs:PurgeQueue", "sqs:DeleteQueue", "sqs:AddPermission",
            "sqs:RemovePermission"),
    "sns": ("sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
            "sns:DeleteTopic", "sns:AddPermission", "sns:RemovePermission"),
    "kms": ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
            "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
            "kms:CreateGrant", "kms:PutKeyPolicy", "kms:DisableKey",
            "kms:ScheduleKeyDeletion", "kms:UpdateKeyDescription"),
    "logs": ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
             "logs:GetLogEvents", "logs:FilterLogEvents", "logs:DeleteLogGroup",
             "logs:DeleteLogStream", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
             "logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter",
             "logs:DisassociateKmsKey", "logs:PutResourcePolicy"),
}

# Actions that destroy, empty or reconfigure a whole store (or irreversibly remove history):
# what an explicit Deny guardrail is for. Reading, and writing or deleting one object, item,
# record or message, is not among them.
_STORE_LEVEL = ("*:Delete*", "*:Put*Policy", "*:Put*Configuration", "s3:PutBucket*",
                "*:Update*", "*:Purge*", "*:Decrease*", "*:Disable*",
                "*:Disassociate*", "*:Schedule*Deletion", "*:Set*Attributes",
                "*:AddPermission", "*:RemovePermission", "*:CreateGrant",
                "*:StopStreamEncryption", "*:MergeShards", "*:SplitShard",
                "*:Deregister*", "*:RestoreTableFromBackup", "s3:PutObjectRetention",
                "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention")
_ONE_ITEM = frozenset({"s3:deleteobject", "s3:deleteobjecttagging", "dynamodb:deleteitem",
                       "dynamodb:updateitem", "dynamodb:partiqldelete",
                       "dynamodb:partiqlupdate", "sqs:deletemessage"})


def is_store_level(action: str) -> bool:
    """Does `action` (a full action name) destroy or reconfigure a whole store?"""
    return action.strip().lower() not in _ONE_ITEM and any(
        action_matches(p, action) for p in _STORE_LEVEL)


def expand(pattern: str) -> tuple[str, ...]:
    """The known actions (KNOWN_ACTIONS) an action pattern covers; empty for a service that
    is not in the table."""
    service = pattern.strip().partition(":")[0].lower()
    catalogs = KNOWN_ACTIONS.values() if service in ("*", "") else (
        KNOWN_ACTIONS.get(service, ()),)
    return tuple(a for known in catalogs for a in known if action_matches(pattern, a))


def broad_writes(statement: Mapping[str, Any], service: str) -> tuple[str, ...]:
    """The store-level actions of `service` this Allow statement grants, by name or through a
    wildcard expanded against KNOWN_ACTIONS (`s3:*`, `s3:Put*`, `*`: `s3:DeleteBucket`,
    `s3:PutBucketPolicy`, ...); every write under `NotAction`. Empty for object, item or
    record writes, however written: `s3:PutObject`, `s3:*Object`, `kinesis:PutRecord*`."""
    known = KNOWN_ACTIONS.get(service, DATA_STORE_WRITE_ACTIONS.get(service, ()))
    if "NotAction" in statement:
        every = dict.fromkeys((*DATA_STORE_WRITE_ACTIONS.get(service, ()), *known))
        return tuple(a for a in every if allows_action(statement, a))
    return tuple(a for a in known if is_store_level(a) and allows_action(statement, a))


# -------------------------------------------------------------- what an explicit Deny removes

# Services whose resources all have ARNs under their own prefix (`arn:aws:sns:...`): a Deny
# on every such ARN leaves the Allow only targets without an ARN (an SMS phone number).
_OWN_ARN_SERVICES = frozenset(KNOWN_ACTIONS) | {"firehose"}
_ARN_SHAPES = ("arn:aws:{}:::x", "arn:aws:{}:r:111122223333:x",
               "arn:aws:{}:r:111122223333:x:y", "arn:aws:{}:r:111122223333:x/y:z")


def subtracting_denies(documents: Iterable[Any]) -> tuple[Mapping[str, Any], ...]:
    """The Deny statements of `documents` (one role's policies, as deployed) that can be
    subtracted from an Allow: with `Action` and `Resource`, no `NotAction`/`NotResource`,
    and no `Condition` (a conditioned Deny may not apply, so it removes nothing)."""
    return tuple(s for document in documents for s in statements(document)
                 if effect_of(s) == "Deny" and "Action" in s and "Resource" in s
                 and "Condition" not in s and "NotAction" not in s
                 and "NotResource" not in s)


def _covers(deny: str, allowed: str, service: str, one_action: bool) -> bool:
    """Does Deny resource `deny` cover every resource the Allow resource `allowed` reaches?
    The Allow text is read literally (its `*` stands for anything, which only a `*` of the
    Deny covers); a Deny with `?` is not used. `*` in the Allow is covered by `*`, or, for
    one named action, by a pattern matching every ARN of a service whose ARNs carry its own
    prefix (a wildcard also grants the service's actions on no resource, such as
    `sns:SetSMSAttributes`, which no ARN pattern denies)."""
    if "?" in deny:
        return False
    if allowed == "*" and deny != "*":
        return one_action and service in _OWN_ARN_SERVICES and deny.replace(
            "*", "").strip(":") == (
            f"arn:aws:{service}") and all(pattern_matches(deny, shape.format(service))
                                          for shape in _ARN_SHAPES)
    return pattern_matches(deny, allowed)


def denied(action: str, resources: Iterable[str], denies: Iterable[Mapping[str, Any]],
           template: Template | None = None, scenario: Scenario = NO_CONDITIONS) -> bool:
    """Do unconditioned Deny statements (see `subtracting_denies`) remove `action` (also a
    wildcard, `s3:*`) on every one of `resources`, the rendered Resource of an Allow? For
    `*` that means every resource with an ARN: what is left (an SMS phone number for
    `sns:Publish`) is no resource a policy could name."""
    service = action.strip().partition(":")[0].lower()
    one_action = "*" not in action and "?" not in action
    wanted = tuple(resources)
    covering = [d for d in denies if any(action_matches(p, action) for p in actions_of(d))]
    return bool(wanted) and bool(covering) and all(
        any(_covers(r, allowed, service, one_action) for d in covering
            for r in resources_of(d, template, scenario))
        for allowed in wanted)


# Services that use a role by their own fixed logic on the store they are configured with, and
# run no customer code with it (an S3 Files file system syncing its bucket, a QLDB stream, a
# Firehose delivery, S3 replication, DataSync, Backup, DMS).
FIXED_LOGIC_SERVICES = frozenset({
    "elasticfilesystem.amazonaws.com", "qldb.amazonaws.com", "firehose.amazonaws.com",
    "s3.amazonaws.com", "datasync.amazonaws.com", "backup.amazonaws.com",
    "dms.amazonaws.com"})


def fixed_logic_role(trust_policy: Any, template: Template | None = None,
                     scenario: Scenario = NO_CONDITIONS) -> bool:
    """Does the trust policy let only FIXED_LOGIC_SERVICES assume the role? Then what the
    role may do is what the service does, and an exact grant on its own store needs no Deny
    guardrail (a wildcard or `*` still does)."""
    found = [p for s in statements(trust_policy) if effect_of(s) == "Allow"
             for p in principals_of(s, template, scenario)]
    return bool(found) and all(p.kind == "Service" and p.text in FIXED_LOGIC_SERVICES
                               for p in found)


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
