"""Roles that say nothing outside the stack addresses a resource (OUT001), and buckets whose
objects are written once or do not last (BKT007): cfnaudit/roles.py."""

from __future__ import annotations

import pytest
from helpers import context_from

from cfnaudit.roles import (
    expires_everything_within,
    key_used_only_inside,
    notifies_people_only,
    receives_command_output,
    receives_firehose_backup,
    used_only_at_deploy,
)
from cfnaudit.rule import Context, Resource


def _context(text: str) -> Context:
    return context_from(text)


def _resource(ctx: Context, logical_id: str) -> Resource:
    return ctx.template.resources[logical_id]


TOPICS = """
Parameters:
  Email: {Type: String}
  Protocol: {Type: String}
  Other: {Type: String}
Resources:
  Closed:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Endpoint: !Ref Email, Protocol: email}]
  Texted:
    Type: AWS::SNS::Topic
  TextedSms:
    Type: AWS::SNS::Subscription
    Properties: {TopicArn: !Ref Texted, Protocol: sms, Endpoint: "+15555550100"}
  Feed:
    Type: AWS::SNS::Topic
    Properties:
      Subscription:
        - {Endpoint: !Ref Email, Protocol: email}
        - {Endpoint: !GetAtt Queue.Arn, Protocol: sqs}
  Unknown:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Endpoint: !Ref Email, Protocol: !Ref Protocol}]
  NoPublisher:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Endpoint: !Ref Email, Protocol: email}]
  Granted:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Endpoint: !Ref Email, Protocol: email}]
  GrantedPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Granted]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: !Ref Other}, Action: sns:Publish, Resource: "*"}
  ServiceGranted:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Endpoint: !Ref Email, Protocol: email-json}]
  ServicePolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref ServiceGranted]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sns:Publish
            Resource: "*"
  Queue: {Type: AWS::SQS::Queue}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmActions: [!Ref Closed, !Ref Texted, !Ref Feed, !Ref Unknown, !Ref Granted,
                     !Ref ServiceGranted]
"""


@pytest.mark.parametrize(("topic", "expected"), [
    ("Closed", True),  # an alarm publishes, an email subscribes
    ("Texted", True),  # the subscription resource delivers SMS
    ("ServiceGranted", True),  # a service principal is no other account
    ("Feed", False),  # a queue subscribes: an event feed
    ("Unknown", False),  # the protocol is the deployer's choice
    ("NoPublisher", False),  # nothing in the stack publishes: publishers are outside
    ("Granted", False),  # its policy admits an account from a parameter
])
def test_notifies_people_only(topic: str, expected: bool) -> None:
    ctx = _context(TOPICS)
    assert notifies_people_only(ctx, _resource(ctx, topic)) is expected


KEYS = """
Parameters:
  Other: {Type: String}
Resources:
  Inside: {Type: AWS::KMS::Key}
  Shared:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - {Effect: Allow, Principal: {AWS: !Sub "arn:aws:iam::${Other}:root"},
             Action: "kms:*", Resource: "*"}
  GrantedOnly: {Type: AWS::KMS::Key}
  AliasOnly: {Type: AWS::KMS::Key}
  Alias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: alias/x, TargetKeyId: !Ref AliasOnly}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {KmsKeyId: !GetAtt Inside.Arn}
  MoreLogs:
    Type: AWS::Logs::LogGroup
    Properties: {KmsKeyId: !GetAtt Shared.Arn}
  Grant:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: decrypt
      Roles: [app]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt GrantedOnly.Arn}]
"""


@pytest.mark.parametrize(("key", "expected"), [
    ("Inside", True),  # only the stack's log group encrypts with it, default key policy
    ("Shared", False),  # its key policy admits another account
    ("GrantedOnly", False),  # only a policy grants it: who uses it is not in the stack
    ("AliasOnly", False),  # nothing encrypts with it
])
def test_key_used_only_inside(key: str, expected: bool) -> None:
    ctx = _context(KEYS)
    assert key_used_only_inside(ctx, _resource(ctx, key)) is expected


DEPLOY = """
Resources:
  Layered: {Type: AWS::S3::Bucket}
  Helper:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Environment: {Variables: {BUCKET: !Ref Layered}}
      Policies: [{S3CrudPolicy: {BucketName: !Ref Layered}}]
  Zip:
    Type: Custom::Zip
    Properties: {ServiceToken: !GetAtt Helper.Arn, Bucket: !Ref Layered}
  Layer:
    Type: AWS::Lambda::LayerVersion
    Properties: {Content: {S3Bucket: !GetAtt Zip.Bucket, S3Key: !GetAtt Zip.Key}}
  AlsoServed: {Type: AWS::S3::Bucket}
  Seed:
    Type: Custom::Seed
    Properties: {ServiceToken: !GetAtt Helper.Arn, Bucket: !Ref AlsoServed}
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Environment: {Variables: {BUCKET: !Ref AlsoServed}}
      Events: {Get: {Type: Api, Properties: {Path: /, Method: get}}}
  Untouched: {Type: AWS::S3::Bucket}
  Handed: {Type: AWS::S3::Bucket}
  HandedSeed:
    Type: Custom::Seed
    Properties: {ServiceToken: !GetAtt Helper.Arn, Bucket: !Ref Handed}
Outputs:
  HandedName: {Value: !Ref Handed}
"""


@pytest.mark.parametrize(("bucket", "expected"), [
    ("Layered", True),  # a custom resource and its helper write the layer zip
    ("AlsoServed", False),  # a function with events reads it at run time
    ("Untouched", False),  # nothing at all: that is `stores_nothing`, not deployment
    ("Handed", False),  # an output hands it on
])
def test_used_only_at_deploy(bucket: str, expected: bool) -> None:
    ctx = _context(DEPLOY)
    assert used_only_at_deploy(ctx, _resource(ctx, bucket)) is expected


OUTPUTS = """
Resources:
  RunOutput: {Type: AWS::S3::Bucket}
  Association:
    Type: AWS::SSM::Association
    Properties:
      Name: AWS-RunShellScript
      OutputLocation: {S3Location: {OutputS3BucketName: !Ref RunOutput}}
  ClusterLogs: {Type: AWS::S3::Bucket}
  Cluster:
    Type: AWS::EMR::Cluster
    Properties: {LogUri: !Sub "s3://${ClusterLogs}/emr/"}
  Backup: {Type: AWS::S3::Bucket}
  Both: {Type: AWS::S3::Bucket}
  Main: {Type: AWS::S3::Bucket}
  Search:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      AmazonopensearchserviceDestinationConfiguration:
        S3Configuration: {BucketARN: !GetAtt Backup.Arn}
  Lake:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration:
        BucketARN: !GetAtt Main.Arn
        S3BackupConfiguration: {BucketARN: !GetAtt Both.Arn}
  Other:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration: {BucketARN: !GetAtt Both.Arn}
"""


@pytest.mark.parametrize(("bucket", "command", "backup"), [
    ("RunOutput", True, False),
    ("ClusterLogs", True, False),
    ("Backup", False, True),  # the S3 backup of an OpenSearch destination
    ("Both", False, False),  # a backup of one stream, but another stream's own destination
    ("Main", False, False),  # a stream's own destination
])
def test_write_once_outputs(bucket: str, command: bool, backup: bool) -> None:
    ctx = _context(OUTPUTS)
    assert receives_command_output(ctx, _resource(ctx, bucket)) is command
    assert receives_firehose_backup(ctx, _resource(ctx, bucket)) is backup


LIFECYCLES = """
Parameters:
  Days: {Type: Number, Default: 5}
Resources:
  Week:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration:
        Rules:
          - {Status: Enabled, ExpirationInDays: 30}
          - {Status: Enabled, ExpirationInDays: 7}
  FromParameter:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration: {Rules: [{Status: Enabled, ExpirationInDays: !Ref Days}]}
  Prefixed:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration:
        Rules: [{Status: Enabled, Filter: {Prefix: tmp/}, ExpirationInDays: 1}]
  Disabled:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration: {Rules: [{Status: Disabled, ExpirationInDays: 1}]}
  NoExpiry: {Type: AWS::S3::Bucket}
"""


@pytest.mark.parametrize(("bucket", "days"), [
    ("Week", 7), ("FromParameter", 5), ("Prefixed", None), ("Disabled", None),
    ("NoExpiry", None),
])
def test_expires_everything_within(bucket: str, days: int | None) -> None:
    ctx = _context(LIFECYCLES)
    assert expires_everything_within(ctx, _resource(ctx, bucket)) == days
