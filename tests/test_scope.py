"""What an identity statement really reaches (cfnaudit/scope.py): the shared allowlist of
actions granted on `*`, resource-scoping conditions, broad writes, full-access policies."""

from __future__ import annotations

import pytest

from cfnaudit.scope import (
    accepts_star,
    broad_writes,
    denied,
    expand,
    fixed_logic_role,
    full_access_services,
    scoped_by_condition,
    subtracting_denies,
)


@pytest.mark.parametrize(("action", "accepted"), [
    ("ssmmessages:*", True), ("ec2messages:*", True),  # agent channels only
    ("logs:PutLogEvents", True), ("logs:CreateLogDelivery", True),
    ("ecs:RegisterContainerInstance", True), ("s3:ListBucket", True),
    ("ssm:UpdateInstanceInformation", True), ("config:PutEvaluations", True),
    ("logs:*", False), ("ssm:*", False), ("s3:GetObject", False), ("*", False),
    ("ec2:AuthorizeSecurityGroupIngress", False),
    ("ec2:AcceptVpcPeeringConnection", True),  # the connection is created later, elsewhere
])
def test_actions_granted_on_star(action: str, accepted: bool) -> None:
    assert accepts_star(action) is accepted


@pytest.mark.parametrize(("condition", "scoped"), [
    ({"StringLike": {"kms:RequestAlias": "alias/dest"}}, True),
    ({"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/dest"}}, True),
    ({"StringEquals": {"aws:ResourceTag/team": "data"}}, True),
    ({"StringEquals": {"ec2:ResourceTag/team": "data"}}, True),
    ({"StringLike": {"s3:prefix": "home/"}}, True),
    ({"StringNotEquals": {"kms:RequestAlias": "alias/other"}}, False),  # negated
    ({"StringEqualsIfExists": {"aws:ResourceTag/team": "data"}}, False),  # may be absent
    ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),  # the caller, not the resource
    ({"Bool": {"aws:SecureTransport": "true"}}, False),
])
def test_conditions_that_scope_the_resource(condition: dict, scoped: bool) -> None:
    statement = {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
                 "Condition": condition}
    assert scoped_by_condition(statement) is scoped


@pytest.mark.parametrize(("actions", "service", "broad"), [
    (["s3:PutObject", "s3:DeleteObject"], "s3", ()),  # least privilege
    (["s3:*Object"], "s3", ()),  # object reads and writes, however written
    (["kinesis:PutRecord*"], "kinesis", ()),  # PutRecord and PutRecords
    (["dynamodb:*Item"], "dynamodb", ()),
    (["s3:PutObjectAcl"], "s3", ()),  # one object's ACL
    (["kinesis:*Stream"], "kinesis", ("kinesis:DeleteStream",)),
    (["s3:GetObject", "s3:DeleteBucket"], "s3", ("s3:DeleteBucket",)),
    (["dynamodb:PutItem", "dynamodb:BatchWriteItem"], "dynamodb", ()),
    (["dynamodb:DeleteTable"], "dynamodb", ("dynamodb:DeleteTable",)),
])
def test_broad_writes(actions: list[str], service: str, broad: tuple[str, ...]) -> None:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    assert broad_writes(statement, service) == broad


def test_put_wildcard_reaches_bucket_configuration() -> None:
    broad = broad_writes({"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}, "s3")
    assert {"s3:PutBucketPolicy", "s3:PutLifecycleConfiguration",
            "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock"} <= set(broad)
    assert "s3:PutObject" not in broad


def test_wildcards_expand_against_known_actions() -> None:
    assert expand("kinesis:PutRecord*") == ("kinesis:PutRecord", "kinesis:PutRecords")
    assert "s3:DeleteBucket" in expand("*")
    assert expand("glue:*") == ()  # not in the table


def test_not_action_writes_are_broad() -> None:
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert "kinesis:PutRecord" in broad_writes(statement, "kinesis")


@pytest.mark.parametrize(("arn", "services"), [
    ("arn:aws:iam::aws:policy/AmazonS3FullAccess", {"s3"}),
    ("arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", {"dynamodb"}),
    ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", set()),
    ("arn:aws:iam::aws:policy/AmazonOpenSearchServiceFullAccess", set()),  # no data store
    ("arn:aws:iam::111122223333:policy/AmazonS3FullAccess", set()),  # a customer policy
])
def test_full_access_policies(arn: str, services: set[str]) -> None:
    assert full_access_services(arn) == services


def test_administrator_access_writes_every_store() -> None:
    assert {"s3", "dynamodb", "kinesis"} <= full_access_services(
        "arn:aws:iam::aws:policy/AdministratorAccess")


def _role_policy(*statements: dict) -> list[dict]:
    return [{"Statement": list(statements)}]


SMS_ALLOW = {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}


@pytest.mark.parametrize(("deny", "removed"), [
    ({"Action": "sns:Publish", "Resource": "arn:aws:sns:*:*"}, True),  # every topic and app
    ({"Action": "sns:*", "Resource": "arn:aws:sns:*"}, True),
    ({"Action": "sns:Publish", "Resource": "arn:*:sns:*"}, False),  # not read: conservative
    ({"Action": "*", "Resource": "*"}, True),
    ({"Action": "sns:Publish", "Resource": "arn:aws:sns:us-east-1:*"}, False),  # one region
    ({"Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:alerts"}, False),  # one topic
    ({"Action": "sns:Publish", "Resource": "arn:aws:sns:?*"}, False),  # `?`: not used
    ({"Action": "sns:Subscribe", "Resource": "*"}, False),  # another action
    ({"Action": "sns:Publish", "Resource": "*",
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, False),  # may not apply
    ({"Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:alerts"}, False),
])
def test_an_unconditioned_deny_covering_every_resource_removes_an_allow_on_star(
        deny: dict, removed: bool) -> None:
    denies = subtracting_denies(_role_policy(SMS_ALLOW, {"Effect": "Deny", **deny}))
    assert denied("sns:Publish", ("*",), denies) is removed


def test_a_wildcard_keeps_the_actions_no_arn_pattern_denies() -> None:
    denies = subtracting_denies(_role_policy(
        {"Effect": "Deny", "Action": "sns:*", "Resource": "arn:aws:sns:*:*"}))
    assert not denied("sns:*", ("*",), denies)  # sns:SetSMSAttributes has no resource
    assert denied("sns:*", ("arn:aws:sns:*:*:alerts",), denies)


def test_a_deny_of_every_arn_is_trusted_only_for_services_with_their_own_arns() -> None:
    denies = subtracting_denies(_role_policy(
        {"Effect": "Deny", "Action": "kafka-cluster:*", "Resource": "arn:aws:kafka-cluster:*"}))
    assert not denied("kafka-cluster:WriteData", ("*",), denies)  # its ARNs say `kafka`


@pytest.mark.parametrize(("deny_resource", "allowed", "removed"), [
    ("${Bucket.Arn}/*", ("${Bucket.Arn}/*",), True),
    ("arn:aws:s3:::data*", ("arn:aws:s3:::data-raw/*", "arn:aws:s3:::data/*"), True),
    ("arn:aws:s3:::data/*", ("arn:aws:s3:::data/*", "arn:aws:s3:::other/*"), False),
    ("arn:aws:s3:::data/a*", ("arn:aws:s3:::data/*",), False),  # narrower than the allow
    ("arn:aws:s3:::data/*", (), False),  # NotResource allow: nothing to compare
])
def test_a_deny_must_cover_every_allowed_resource(deny_resource: str, allowed: tuple[str, ...],
                                                  removed: bool) -> None:
    denies = subtracting_denies(_role_policy(
        {"Effect": "Deny", "Action": "s3:*", "Resource": deny_resource}))
    assert denied("s3:GetObject", allowed, denies) is removed


@pytest.mark.parametrize(("principals", "fixed"), [
    ({"Service": "elasticfilesystem.amazonaws.com"}, True),
    ({"Service": ["qldb.amazonaws.com", "firehose.amazonaws.com"]}, True),
    ({"Service": "lambda.amazonaws.com"}, False),  # runs customer code
    ({"Service": "qldb.amazonaws.com", "AWS": "111122223333"}, False),
])
def test_roles_only_fixed_logic_services_assume(principals: dict, fixed: bool) -> None:
    trust = {"Statement": [{"Effect": "Allow", "Principal": principals,
                            "Action": "sts:AssumeRole"}]}
    assert fixed_logic_role(trust) is fixed
