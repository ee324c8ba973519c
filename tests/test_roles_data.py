"""Roles that decide whether a store's data matters (cfnaudit/roles.py): buckets with no data
path, log targets named by the same parameter, tables of passing records, ephemeral tables."""

from __future__ import annotations

import pytest
from helpers import context_from

from cfnaudit.roles import (
    Purpose,
    backs_file_system,
    holds_passing_records,
    is_detached_empty_volume,
    is_ephemeral_table,
    is_macro_placeholder,
    stores_nothing,
    timestream_keeps_days,
    used_only_by_builds,
)
from cfnaudit.rule import Context, Resource


def _context(text: str) -> Context:
    return context_from(text)


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


# ------------------------------------------------------------- placeholders, mounts, volumes

PLACEHOLDERS = """
Transform: Count
Resources:
  Shown: {Type: AWS::S3::Bucket, Properties: {Tags: [{Key: a, Value: b}]}}
  Used: {Type: AWS::S3::Bucket}
  Reader:
    Type: AWS::Lambda::Function
    Properties: {Environment: {Variables: {B: !Ref Used}}}
"""


def test_a_bucket_with_no_data_path_under_a_macro_of_its_own_is_a_placeholder() -> None:
    ctx = _context(PLACEHOLDERS)
    assert is_macro_placeholder(ctx, _resource(ctx, "Shown"))
    assert not is_macro_placeholder(ctx, _resource(ctx, "Used"))  # a function reads it


def test_without_a_macro_a_lone_bucket_is_not_a_placeholder_unless_its_values_are_macro_output(
) -> None:
    ctx = _context("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Lone: {Type: AWS::S3::Bucket}
          Stamped:
            Type: AWS::S3::Bucket
            Properties:
              Tags: [{Key: now, Value: {"Fn::Transform": {Name: DatetimeNow}}}]
    """)
    assert not is_macro_placeholder(ctx, _resource(ctx, "Lone"))  # AWS's transform
    assert is_macro_placeholder(ctx, _resource(ctx, "Stamped"))


BUILDS = """
Resources:
  Artifacts: {Type: AWS::S3::Bucket}
  Shared: {Type: AWS::S3::Bucket}
  BuildRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: codebuild.amazonaws.com},
                     Action: sts:AssumeRole}]
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com},
                     Action: sts:AssumeRole}]
  BuildAccess:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref BuildRole]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: s3:*, Resource: [!GetAtt Artifacts.Arn,
                                                              !GetAtt Shared.Arn]}]
  AppAccess:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref AppRole]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: s3:GetObject, Resource: !GetAtt Shared.Arn}]
"""


def test_a_bucket_only_build_roles_reach_is_an_artifact_store() -> None:
    ctx = _context(BUILDS)
    assert used_only_by_builds(ctx, _resource(ctx, "Artifacts"))
    assert ctx.role(_resource(ctx, "Artifacts")).purposes == {Purpose.ARTIFACTS}
    assert not used_only_by_builds(ctx, _resource(ctx, "Shared"))  # a function role reads it
    assert ctx.role(_resource(ctx, "Shared")).purposes == {Purpose.DATA}


def test_file_system_mount_and_detached_volumes() -> None:
    ctx = _context("""
        Resources:
          Mounted: {Type: AWS::S3::Bucket}
          Plain: {Type: AWS::S3::Bucket}
          Fs:
            Type: AWS::S3Files::FileSystem
            Properties: {Bucket: !GetAtt Mounted.Arn}
          Empty: {Type: AWS::EC2::Volume, Properties: {Size: 5}}
          Restored: {Type: AWS::EC2::Volume, Properties: {SnapshotId: snap-1}}
          Used: {Type: AWS::EC2::Volume, Properties: {Size: 5}}
          Exported: {Type: AWS::EC2::Volume, Properties: {Size: 5}}
          Attach:
            Type: AWS::EC2::VolumeAttachment
            Properties: {VolumeId: !Ref Used, InstanceId: i-1, Device: /dev/sdf}
        Outputs:
          Vol: {Value: !Ref Exported}
    """)
    assert backs_file_system(ctx, _resource(ctx, "Mounted"))
    assert not backs_file_system(ctx, _resource(ctx, "Plain"))
    assert is_detached_empty_volume(ctx, _resource(ctx, "Empty"))
    assert not is_detached_empty_volume(ctx, _resource(ctx, "Restored"))
    assert not is_detached_empty_volume(ctx, _resource(ctx, "Used"))
    assert not is_detached_empty_volume(ctx, _resource(ctx, "Exported"))


@pytest.mark.parametrize(("retention", "expected"), [
    ('{MemoryStoreRetentionPeriodInHours: "168", MagneticStoreRetentionPeriodInDays: "7"}', 7),
    ('{MemoryStoreRetentionPeriodInHours: 240, MagneticStoreRetentionPeriodInDays: 1}', 10),
    ('{MemoryStoreRetentionPeriodInHours: 24}', None),  # magnetic left to the default
    ('{MemoryStoreRetentionPeriodInHours: 24, MagneticStoreRetentionPeriodInDays: !Ref P}',
     None),
])
def test_timestream_retention_in_days(retention: str, expected: int | None) -> None:
    ctx = _context(f"""
        Parameters:
          P: {{Type: Number}}
        Resources:
          T:
            Type: AWS::Timestream::Table
            Properties: {{RetentionProperties: {retention}}}
    """)
    assert timestream_keeps_days(ctx, _resource(ctx, "T")) == expected
