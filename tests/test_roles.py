"""What resources are for (cfnaudit/roles.py): bucket purposes, invocation modes, dead-letter
queues, deployment helpers, public load-balancer groups, data worth retaining, global names."""

from __future__ import annotations

import pytest
from helpers import template_from

from cfnaudit.graph import ResourceGraph
from cfnaudit.roles import Invocation, Purpose, Role, Roles, roles_of


def roles(text: str) -> Roles:
    template = template_from(text)
    return Roles(template, ResourceGraph(template))


def role(text: str, logical_id: str) -> Role:
    found = roles(text)
    return found.role(found.template.resources[logical_id])


# --------------------------------------------------------------------------------- buckets

LOG_TARGETS = """
Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      LoggingConfiguration: {DestinationBucketName: !Ref Access}
  Access: {Type: AWS::S3::Bucket}
  TrailBucket: {Type: AWS::S3::Bucket}
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties: {IsLogging: true, S3BucketName: !Ref TrailBucket}
  ConfigBucket: {Type: AWS::S3::Bucket}
  Channel:
    Type: AWS::Config::DeliveryChannel
    Properties: {S3BucketName: !Ref ConfigBucket}
  AlbBucket: {Type: AWS::S3::Bucket}
  Alb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      LoadBalancerAttributes:
        - {Key: access_logs.s3.enabled, Value: "true"}
        - {Key: access_logs.s3.bucket, Value: !Ref AlbBucket}
  ElbBucket: {Type: AWS::S3::Bucket}
  Elb:
    Type: AWS::ElasticLoadBalancing::LoadBalancer
    Properties:
      Listeners: []
      AccessLoggingPolicy: {Enabled: true, S3BucketName: !Ref ElbBucket}
  CdnLogs: {Type: AWS::S3::Bucket}
  Origin: {Type: AWS::S3::Bucket}
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Logging: {Bucket: !GetAtt CdnLogs.DomainName}
        Origins: [{Id: o, DomainName: !GetAtt Origin.RegionalDomainName}]
  FlowBucket: {Type: AWS::S3::Bucket}
  Flow:
    Type: AWS::EC2::FlowLog
    Properties: {LogDestinationType: s3, LogDestination: !GetAtt FlowBucket.Arn}
  WafBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: aws-waf-logs-acme}
  WafLogging:
    Type: AWS::WAFv2::LoggingConfiguration
    Properties: {LogDestinationConfigs: ["arn:aws:s3:::aws-waf-logs-acme"]}
  Artifacts: {Type: AWS::S3::Bucket}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties: {ArtifactStore: {Type: S3, Location: !Ref Artifacts}}
  Site:
    Type: AWS::S3::Bucket
    Properties: {WebsiteConfiguration: {IndexDocument: index.html}}
"""


@pytest.mark.parametrize(("bucket", "purpose"), [
    ("Access", Purpose.ACCESS_LOGS),
    ("TrailBucket", Purpose.TRAIL_LOGS),
    ("ConfigBucket", Purpose.CONFIG_LOGS),
    ("AlbBucket", Purpose.LOAD_BALANCER_LOGS),
    ("ElbBucket", Purpose.LOAD_BALANCER_LOGS),
    ("CdnLogs", Purpose.CDN_LOGS),
    ("FlowBucket", Purpose.FLOW_LOGS),
    ("WafBucket", Purpose.WAF_LOGS),
    ("Origin", Purpose.CDN_ORIGIN),
    ("Artifacts", Purpose.ARTIFACTS),
    ("Site", Purpose.WEBSITE),
    ("Data", Purpose.DATA),
])
def test_bucket_purpose_comes_from_what_refers_to_it(bucket: str, purpose: Purpose) -> None:
    assert role(LOG_TARGETS, bucket).purposes == {purpose}


def test_log_delivery_buckets_are_log_buckets_and_others_are_not() -> None:
    found = roles(LOG_TARGETS)
    logs = {lid for lid, r in found.template.resources.items()
            if r.type == "AWS::S3::Bucket" and found.role(r).is_log_bucket}
    assert logs == {"Access", "TrailBucket", "ConfigBucket", "AlbBucket", "ElbBucket",
                    "CdnLogs", "FlowBucket", "WafBucket"}


def test_a_name_makes_no_log_bucket_and_its_absence_makes_no_data_bucket() -> None:
    text = """
    Resources:
      AccessLogsBucket:
        Type: AWS::S3::Bucket
        Properties: {BucketName: company-logs}
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          LoggingConfiguration: {DestinationBucketName: !Ref Archive}
      Archive: {Type: AWS::S3::Bucket}
    """
    assert role(text, "AccessLogsBucket").purposes == {Purpose.DATA}
    assert role(text, "Archive").purposes == {Purpose.ACCESS_LOGS}


def test_a_bucket_logging_into_itself_is_not_its_own_log_target() -> None:
    text = """
    Resources:
      Raw:
        Type: AWS::S3::Bucket
        Properties:
          LoggingConfiguration: {DestinationBucketName: !Ref Raw}
    """
    assert role(text, "Raw").purposes == {Purpose.DATA}


def test_literal_names_and_arns_count_as_references() -> None:
    text = """
    Parameters:
      Env: {Type: String, Default: dev}
      TrailBucketName: {Type: String}
      OtherName: {Type: String}
    Resources:
      TrailBucket:
        Type: AWS::S3::Bucket
        Properties: {BucketName: !Sub "trail-${Env}"}
      Trail:
        Type: AWS::CloudTrail::Trail
        Properties: {IsLogging: true, S3BucketName: trail-dev}
      Flows:
        Type: AWS::S3::Bucket
        Properties: {BucketName: flows}
      Flow:
        Type: AWS::EC2::FlowLog
        Properties: {LogDestinationType: s3, LogDestination: "arn:aws:s3:::flows/vpc/"}
      Other:
        Type: AWS::S3::Bucket
        Properties: {BucketName: flows-archive}
      Shared:
        Type: AWS::S3::Bucket
        Properties: {BucketName: !Ref TrailBucketName}
      SharedTrail:
        Type: AWS::CloudTrail::Trail
        Properties: {IsLogging: true, S3BucketName: !Ref TrailBucketName}
      Unrelated:
        Type: AWS::S3::Bucket
        Properties: {BucketName: !Ref OtherName}
    """
    assert role(text, "TrailBucket").purposes == {Purpose.TRAIL_LOGS}
    assert role(text, "Flows").purposes == {Purpose.FLOW_LOGS}
    assert role(text, "Shared").purposes == {Purpose.TRAIL_LOGS}
    assert role(text, "Unrelated").purposes == {Purpose.DATA}
    assert role(text, "Other").purposes == {Purpose.DATA}


def test_policies_that_grant_a_delivery_service_or_cloudfront() -> None:
    text = """
    Resources:
      Sink: {Type: AWS::S3::Bucket}
      SinkPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Sink
          PolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: logging.s3.amazonaws.com},
                 Action: s3:PutObject, Resource: !Sub "${Sink.Arn}/*"}
      Elb: {Type: AWS::S3::Bucket}
      ElbPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Elb
          PolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {AWS: "arn:aws:iam::127311923021:root"},
                 Action: s3:PutObject, Resource: !Sub "${Elb.Arn}/alb/AWSLogs/${AWS::AccountId}/*"}
      Media: {Type: AWS::S3::Bucket}
      MediaPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Media
          PolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: cloudfront.amazonaws.com},
                 Action: s3:GetObject, Resource: !Sub "${Media.Arn}/*"}
      Exports: {Type: AWS::S3::Bucket}
      ExportsPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Exports
          PolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: !Sub "logs.${AWS::Region}.amazonaws.com"},
                 Action: s3:PutObject, Resource: !Sub "${Exports.Arn}/*"}
      Denied: {Type: AWS::S3::Bucket}
      DeniedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Denied
          PolicyDocument:
            Statement:
              - {Effect: Deny, Principal: {Service: logging.s3.amazonaws.com},
                 Action: s3:PutObject, Resource: !Sub "${Denied.Arn}/*"}
    """
    assert role(text, "Sink").purposes == {Purpose.ACCESS_LOGS}
    assert role(text, "Elb").purposes == {Purpose.VENDED_LOGS}
    assert role(text, "Media").purposes == {Purpose.CDN_ORIGIN}
    assert role(text, "Exports").purposes == {Purpose.VENDED_LOGS}
    assert role(text, "Denied").purposes == {Purpose.DATA}


def test_a_firehose_target_is_a_log_bucket_only_when_logs_feed_the_stream() -> None:
    text = """
    Resources:
      LogArchive: {Type: AWS::S3::Bucket}
      Landing: {Type: AWS::S3::Bucket}
      LogStream:
        Type: AWS::KinesisFirehose::DeliveryStream
        Properties:
          ExtendedS3DestinationConfiguration: {BucketARN: !GetAtt LogArchive.Arn}
      DataStream:
        Type: AWS::KinesisFirehose::DeliveryStream
        Properties:
          S3DestinationConfiguration: {BucketARN: !GetAtt Landing.Arn}
      Subscription:
        Type: AWS::Logs::SubscriptionFilter
        Properties: {LogGroupName: /app, FilterPattern: "", DestinationArn: !GetAtt LogStream.Arn}
    """
    assert role(text, "LogArchive").purposes == {Purpose.FIREHOSE_LOGS}
    assert role(text, "Landing").purposes == {Purpose.DATA}


def test_a_load_balancer_attribute_other_than_the_log_bucket_does_not_count() -> None:
    text = """
    Parameters:
      Name: {Type: String, Default: x}
    Resources:
      Bucket: {Type: AWS::S3::Bucket}
      Alb:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
        Properties:
          LoadBalancerAttributes:
            - {Key: routing.http.drop_invalid_header_fields.enabled, Value: !Sub "${Bucket}"}
    """
    assert role(text, "Bucket").purposes == {Purpose.DATA}


# ------------------------------------------------------------------------------- functions

FUNCTION = """
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {ZipFile: "def handler(e, c): pass"}"""

INVOKED = f"""
Resources:
  Api:{FUNCTION}
  Method:
    Type: AWS::ApiGateway::Method
    Properties:
      Integration:
        Uri: !Sub "arn:aws:apigateway:${{AWS::Region}}:lambda:path/functions/${{Api.Arn}}/x"
  OnUpload:{FUNCTION}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations: [{{Event: "s3:ObjectCreated:*", Function: !GetAtt OnUpload.Arn}}]
  Poller:{FUNCTION}
  Queue: {{Type: AWS::SQS::Queue}}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {{FunctionName: !Ref Poller, EventSourceArn: !GetAtt Queue.Arn}}
  Scheduled:{FUNCTION}
  ScheduledAlias:
    Type: AWS::Lambda::Alias
    Properties: {{FunctionName: !Ref Scheduled, FunctionVersion: $LATEST, Name: live}}
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets:
        - {{Id: t, Arn: !Ref ScheduledAlias, DeadLetterConfig: {{Arn: !GetAtt Queue.Arn}}}}
  ByPermission:{FUNCTION}
  ByPermissionName:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: named-fn
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {{ZipFile: "def handler(e, c): pass"}}
  SnsPermission:
    Type: AWS::Lambda::Permission
    Properties:
      {{Action: "lambda:InvokeFunction", FunctionName: named-fn, Principal: sns.amazonaws.com}}
  AlbPermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !GetAtt ByPermission.Arn
      Principal: elasticloadbalancing.amazonaws.com
  Helper:{FUNCTION}
  Seed:
    Type: Custom::Seed
    Properties: {{ServiceToken: !GetAtt Helper.Arn}}
  Lonely:{FUNCTION}
"""


@pytest.mark.parametrize(("function", "modes"), [
    ("Api", {Invocation.SYNC}),
    ("OnUpload", {Invocation.ASYNC}),
    ("Poller", {Invocation.POLL}),
    ("Scheduled", {Invocation.ASYNC}),
    ("ByPermissionName", {Invocation.ASYNC}),
    ("ByPermission", {Invocation.SYNC}),
    ("Helper", {Invocation.SYNC}),
    ("Lonely", set()),
])
def test_invocation_modes_come_from_the_graph(function: str, modes: set[Invocation]) -> None:
    assert role(INVOKED, function).modes == modes


def test_invokers_are_named_for_messages() -> None:
    found = role(INVOKED, "OnUpload").invoked(Invocation.ASYNC)
    assert [i.label for i in found] == ["S3 notifications of `Bucket`"]
    assert [i.label for i in role(INVOKED, "ByPermissionName").invokers] == [
        "Amazon SNS (permission `SnsPermission`)"]


def test_only_a_function_that_serves_cloudformation_alone_is_a_deployment_helper() -> None:
    assert role(INVOKED, "Helper").has(Purpose.DEPLOYMENT_HELPER)
    assert not role(INVOKED, "Api").has(Purpose.DEPLOYMENT_HELPER)
    assert not role(INVOKED, "Lonely").has(Purpose.DEPLOYMENT_HELPER)


def test_a_rule_target_dead_letter_config_makes_a_dead_letter_queue() -> None:
    found = roles(INVOKED)
    queue = found.template.resources["Queue"]
    assert found.role(queue).has(Purpose.DEAD_LETTER)
    assert found.dead_letter_sources(queue) == ["Nightly"]


# ------------------------------------------------------------------------- security groups

def test_groups_of_internet_facing_load_balancers_are_public_entries() -> None:
    text = """
    Parameters:
      Scheme: {Type: String, Default: internal}
    Resources:
      Public: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: p}}
      Private: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: p}}
      ByParameter: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: p}}
      Loose: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: p}}
      Front:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
        Properties: {SecurityGroups: [!Ref Public]}
      Back:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
        Properties: {Scheme: internal, SecurityGroups: [!Ref Private]}
      Chosen:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
        Properties: {Scheme: !Ref Scheme, SecurityGroups: [!GetAtt ByParameter.GroupId]}
      Shared: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: p}}
      SharedFront:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
        Properties: {SecurityGroups: [!Ref Shared]}
      Server:
        Type: AWS::EC2::Instance
        Properties: {ImageId: ami-12345678, SecurityGroupIds: [!Ref Shared]}
      FromPublic:
        Type: AWS::EC2::SecurityGroupIngress
        Properties: {GroupId: !Ref Private, SourceSecurityGroupId: !Ref Public}
    """
    groups = ("Public", "Private", "ByParameter", "Loose", "Shared")
    public = {g for g in groups if role(text, g).has(Purpose.PUBLIC_ENTRY)}
    assert public == {"Public"}
    balancers = {g for g in groups if role(text, g).has(Purpose.LOAD_BALANCER_GROUP)}
    assert balancers == {"Public", "Private", "ByParameter"}


# ------------------------------------------------------------------------------- retention

RETENTION = """
Parameters:
  Days: {Type: Number, Default: 400}
Resources:
  Week: {Type: AWS::Logs::LogGroup, Properties: {RetentionInDays: 7}}
  Quarter: {Type: AWS::Logs::LogGroup, Properties: {RetentionInDays: 90}}
  Long: {Type: AWS::Logs::LogGroup, Properties: {RetentionInDays: !Ref Days}}
  Forever: {Type: AWS::Logs::LogGroup}
  Day: {Type: AWS::Kinesis::Stream, Properties: {ShardCount: 1}}
  Weekly: {Type: AWS::Kinesis::Stream, Properties: {ShardCount: 1, RetentionPeriodHours: 168}}
  Table: {Type: AWS::DynamoDB::Table}
  Artifacts: {Type: AWS::S3::Bucket}
  Data: {Type: AWS::S3::Bucket}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties: {ArtifactStore: {Type: S3, Location: !Ref Artifacts}}
"""


@pytest.mark.parametrize(("logical_id", "kept"), [
    ("Week", False), ("Quarter", False), ("Long", True), ("Forever", True),
    ("Day", False), ("Weekly", True), ("Table", True), ("Artifacts", False), ("Data", True),
])
def test_keeps_data_follows_retention(logical_id: str, kept: bool) -> None:
    found = roles(RETENTION)
    resource = found.template.resources[logical_id]
    assert found.keeps_data(resource, log_group_days=90, stream_hours=24) is kept


def test_keeps_data_thresholds_are_options() -> None:
    found = roles(RETENTION)
    week = found.template.resources["Week"]
    assert found.keeps_data(week, log_group_days=3, stream_hours=24)


# ----------------------------------------------------------------------------------- names

@pytest.mark.parametrize(("resource_type", "is_global"), [
    ("AWS::S3::Bucket", True), ("AWS::IAM::Role", True), ("AWS::IAM::ManagedPolicy", True),
    ("AWS::DynamoDB::GlobalTable", True), ("AWS::CloudWatch::Dashboard", True),
    ("AWS::SQS::Queue", False), ("AWS::DynamoDB::Table", False),
    ("AWS::Lambda::Function", False), ("AWS::Logs::LogGroup", False),
])
def test_global_names(resource_type: str, is_global: bool) -> None:
    found = roles(f"Resources:\n  R: {{Type: '{resource_type}'}}\n")
    assert found.has_global_name(found.template.resources["R"]) is is_global


def test_one_roles_per_graph() -> None:
    template = template_from("Resources:\n  B: {Type: AWS::S3::Bucket}\n")
    graph = ResourceGraph(template)
    assert roles_of(template, graph) is roles_of(template, graph)
    assert roles_of(template, ResourceGraph(template)) is not roles_of(template, graph)


EDGE = f"""
Resources:
  Edge:{FUNCTION}
  EdgeVersion: {{Type: AWS::Lambda::Version, Properties: {{FunctionName: !Ref Edge}}}}
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        DefaultCacheBehavior:
          LambdaFunctionAssociations: [{{LambdaFunctionARN: !Ref EdgeVersion}}]
  Device:{FUNCTION}
  DeviceVersion: {{Type: AWS::Lambda::Version, Properties: {{FunctionName: !Ref Device}}}}
  Definition:
    Type: AWS::Greengrass::FunctionDefinition
    Properties: {{InitialVersion: {{Functions: [{{FunctionArn: !Ref DeviceVersion}}]}}}}
  Regional:{FUNCTION}
  Origin:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Origins: [{{Id: o, DomainName: !Sub "${{Regional}}.lambda-url.example"}}]
"""


def test_functions_deployed_to_edges_or_devices_run_at_the_edge() -> None:
    edge = {f for f in ("Edge", "Device", "Regional") if role(EDGE, f).has(Purpose.EDGE)}
    assert edge == {"Edge", "Device"}


def test_rules_ask_through_the_context_and_share_one_answer() -> None:
    from cfnaudit.intrinsics import Scenarios
    from cfnaudit.registry import builtin_rules_dir, load_rules
    from cfnaudit.rule import Context

    template = template_from(LOG_TARGETS)
    graph = ResourceGraph(template)
    first, second = load_rules([builtin_rules_dir()])[:2]
    contexts = [Context(template, graph, r.options, r, Scenarios(template, 64))
                for r in (first, second)]
    access = template.resources["Access"]
    assert contexts[0].role(access).purposes == {Purpose.ACCESS_LOGS}
    assert contexts[0].roles is contexts[1].roles
