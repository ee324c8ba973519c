"""Roles that decide whether a store's data matters (cfnaudit/roles.py): buckets with no data
path, log targets named by the same parameter, tables of passing records, ephemeral tables."""

from __future__ import annotations

import pytest
from helpers import template_from

from cfnaudit.graph import ResourceGraph
from cfnaudit.intrinsics import Scenarios
from cfnaudit.roles import Purpose, holds_passing_records, is_ephemeral_table, stores_nothing
from cfnaudit.rule import Context, Resource, Rule, Severity


def _context(text: str) -> Context:
    template = template_from(text)
    meta = Rule(code="TST001", name="t", severity=Severity.INFO, category="s3-versioning",
                docs="", check=None)
    return Context(template, ResourceGraph(template), {}, meta, Scenarios(template))


def _resource(ctx: Context, logical_id: str) -> Resource:
    return ctx.template.resources[logical_id]


# ------------------------------------------------------------------ buckets with no data path

BUCKETS = """
Resources:
  Lonely: {Type: AWS::S3::Bucket}
  Seeded: {Type: AWS::S3::Bucket}
  Readme:
    Type: AWS::S3::Object
    DependsOn: Seeded
    Properties: {Target: {Bucket: !Ref Seeded, Key: README.md}, Body: hi}
  Denied: {Type: AWS::S3::Bucket}
  DeniedPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Denied
      PolicyDocument:
        Statement:
          - {Effect: Deny, Principal: "*", Action: "s3:*", Resource: !GetAtt Denied.Arn,
             Condition: {Bool: {aws:SecureTransport: false}}}
  Granted: {Type: AWS::S3::Bucket}
  GrantedPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Granted
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::444455556666:root"},
             Action: s3:GetObject, Resource: !Sub "${Granted.Arn}/*"}
  Named:
    Type: AWS::S3::Bucket
    Properties: {BucketName: shared-name}
  Exported: {Type: AWS::S3::Bucket}
  Read: {Type: AWS::S3::Bucket}
  Reader:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111122223333:role/r
      Code: {ZipFile: "def handler(e, c): pass"}
      Environment: {Variables: {BUCKET: !Sub "${Read}"}}
  Waiting:
    Type: AWS::SQS::Queue
    DependsOn: Lonely
  Notifying:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        EventBridgeConfiguration: {EventBridgeEnabled: true}
  Logs:
    Type: AWS::S3::Bucket
    Properties: {AccessControl: LogDeliveryWrite}
Outputs:
  Out: {Value: !GetAtt Exported.Arn}
"""


@pytest.mark.parametrize(("bucket", "expected"), [
    ("Lonely", True),  # a DependsOn on it moves no data
    ("Seeded", True),  # only deployment-time objects
    ("Denied", True),  # its policy only denies
    ("Granted", False),  # its policy grants a reader
    ("Named", False),  # a physical name other systems use
    ("Exported", False),  # an output hands it on
    ("Read", False),  # a function refers to it
    ("Notifying", False),  # its notifications move data out
    ("Logs", False),  # a log target is not a data bucket at all
])
def test_stores_nothing(bucket: str, expected: bool) -> None:
    ctx = _context(BUCKETS)
    assert stores_nothing(ctx, _resource(ctx, bucket)) is expected


def test_a_trail_naming_its_bucket_with_the_same_parameter_makes_it_a_trail_target() -> None:
    ctx = _context("""
        Parameters:
          TrailBucketName: {Type: String}
          OtherName: {Type: String}
        Resources:
          TrailBucket:
            Type: AWS::S3::Bucket
            Properties: {BucketName: !Ref TrailBucketName}
          Other:
            Type: AWS::S3::Bucket
            Properties: {BucketName: !Ref OtherName}
          Stacked:
            Type: AWS::S3::Bucket
            Properties: {BucketName: !Sub "${AWS::StackName}-config"}
          Trail:
            Type: AWS::CloudTrail::Trail
            Properties: {IsLogging: true, S3BucketName: !Ref TrailBucketName}
          Channel:
            Type: AWS::Config::DeliveryChannel
            Properties: {S3BucketName: !Sub "${AWS::StackName}-config"}
    """)
    assert ctx.role(_resource(ctx, "TrailBucket")).purposes == {Purpose.TRAIL_LOGS}
    assert ctx.role(_resource(ctx, "Stacked")).purposes == {Purpose.CONFIG_LOGS}
    assert ctx.role(_resource(ctx, "Other")).purposes == {Purpose.DATA}


# ---------------------------------------------------------------------------------- tables

TABLES = """
Resources:
  ConnectionsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Sessions:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: connectionid, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  Runs:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "job-runs-${AWS::Region}"
      KeySchema: [{AttributeName: job, KeyType: HASH}, {AttributeName: run_id, KeyType: RANGE}]
  Callbacks:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-callbacks"
      KeySchema: [{AttributeName: uuid, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: "true"}
  Users:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: userId, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: deleted_at, Enabled: true}
  Statements:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: accountId, KeyType: HASH}]
  Restaurants:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: restaurantId, KeyType: HASH}]
  OpenSessions:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: sessionId, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: false}
"""


@pytest.mark.parametrize(("table", "passing", "ephemeral"), [
    ("ConnectionsTable", True, False),  # no time to live yet
    ("Sessions", True, True),
    ("Runs", True, False),  # `runs` and `run_id` are words of their own
    ("Callbacks", True, True),
    ("Users", False, False),  # a time to live alone does not make it ephemeral
    ("Statements", False, False),  # `state` is not a word of `Statements`
    ("Restaurants", False, False),  # nor `run` of `Restaurants`
    ("OpenSessions", True, False),  # its time to live is off
])
def test_tables_of_passing_records(table: str, passing: bool, ephemeral: bool) -> None:
    ctx = _context(TABLES)
    assert holds_passing_records(ctx, _resource(ctx, table)) is passing
    assert is_ephemeral_table(ctx, _resource(ctx, table)) is ephemeral
