"""What an identity statement really reaches (cfnaudit/scope.py): the shared allowlist of
actions granted on `*`, resource-scoping conditions, broad writes, full-access policies."""

from __future__ import annotations

import pytest

from cfnaudit.scope import accepts_star, broad_writes, full_access_services, scoped_by_condition


@pytest.mark.parametrize(("action", "accepted"), [
    ("ssmmessages:*", True), ("ec2messages:*", True),  # agent channels only
    ("logs:PutLogEvents", True), ("logs:CreateLogDelivery", True),
    ("ecs:RegisterContainerInstance", True), ("s3:ListBucket", True),
    ("ssm:UpdateInstanceInformation", True), ("config:PutEvaluations", True),
    ("logs:*", False), ("ssm:*", False), ("s3:GetObject", False), ("*", False),
    ("ec2:AuthorizeSecurityGroupIngress", False),
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
    (["s3:Put*"], "s3", ("s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
                         "s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketVersioning",
                         "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration")),
    (["s3:GetObject", "s3:DeleteBucket"], "s3", ("s3:DeleteBucket",)),
    (["dynamodb:PutItem", "dynamodb:BatchWriteItem"], "dynamodb", ()),
    (["dynamodb:DeleteTable"], "dynamodb", ("dynamodb:DeleteTable",)),
])
def test_broad_writes(actions: list[str], service: str, broad: tuple[str, ...]) -> None:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    assert broad_writes(statement, service) == broad


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
