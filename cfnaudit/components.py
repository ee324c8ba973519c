"""What part a resource plays in a stack, answered through the graph: dead-letter queues and
functions that only serve CloudFormation. Shared by the coverage, dashboard and redrive rules
so that they agree on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfnaudit.rule import Context
    from cfnaudit.template import Resource

# (source type, path below which a reference means "this queue receives failures")
DEAD_LETTER_EDGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS::SQS::Queue", ("Properties", "RedrivePolicy")),
    ("AWS::Lambda::Function", ("Properties", "DeadLetterConfig")),
    ("AWS::Lambda::EventInvokeConfig", ("Properties", "DestinationConfig", "OnFailure")),
    ("AWS::Lambda::EventSourceMapping", ("Properties", "DestinationConfig", "OnFailure")),
    ("AWS::SNS::Subscription", ("Properties", "RedrivePolicy")),
    ("AWS::Events::Rule", ("Properties", "Targets")),
    ("AWS::Pipes::Pipe", ("Properties", "SourceParameters")),
)

# Resources through which events reach a function at run time.
TRIGGER_TYPES = frozenset({
    "AWS::Lambda::EventSourceMapping", "AWS::S3::Bucket", "AWS::SNS::Subscription",
    "AWS::SNS::Topic", "AWS::Events::Rule", "AWS::Scheduler::Schedule", "AWS::Pipes::Pipe",
    "AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Integration", "AWS::Lambda::Url",
    "AWS::StepFunctions::StateMachine", "AWS::AppSync::DataSource", "AWS::Config::ConfigRule",
    "AWS::Logs::SubscriptionFilter", "AWS::IoT::TopicRule", "AWS::Cognito::UserPool",
    "AWS::KinesisFirehose::DeliveryStream", "AWS::ElasticLoadBalancingV2::TargetGroup",
})


def _is_dead_letter_edge(source_type: str, path: tuple[object, ...]) -> bool:
    if source_type == "AWS::Events::Rule":  # Targets[i].DeadLetterConfig, not Targets[i].Arn
        return path[5:6] == ("DeadLetterConfig",)
    if source_type == "AWS::Pipes::Pipe":
        return "DeadLetterConfig" in path
    return True


def dead_letter_sources(ctx: Context, queue: Resource) -> list[str]:
    """Logical ids of the resources that send their failures to `queue` (queue redrive,
    function dead-letter config, on-failure destinations, subscription redrive, rule-target
    and pipe dead-letter configs), in the order found."""
    found = []
    for source_type, under in DEAD_LETTER_EDGES:
        for edge in ctx.referrers(queue, types=(source_type,), under=under):
            if _is_dead_letter_edge(source_type, edge.path):
                found.append(edge.source_id)
    return list(dict.fromkeys(found))


def is_dead_letter_queue(ctx: Context, queue: Resource) -> bool:
    return bool(dead_letter_sources(ctx, queue))


def is_deployment_helper(ctx: Context, function: Resource) -> bool:
    """A function that only serves CloudFormation itself (the ServiceToken of custom
    resources, a macro's function) with nothing that triggers it at run time: its failures
    fail the deployment, where they are seen."""
    edges = ctx.referrers(function, kinds=("Ref", "GetAtt", "Sub"))
    resources = ctx.template.resources
    serves = any(e.under("Properties", "ServiceToken")
                 or resources[e.source_id].type == "AWS::CloudFormation::Macro" for e in edges)
    triggered = any(resources[e.source_id].type in TRIGGER_TYPES for e in edges)
    return serves and not triggered


# (store type, property below which a reference to a key means "encrypted at rest with it")
ENCRYPTION_EDGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS::S3::Bucket", ("Properties", "BucketEncryption")),
    ("AWS::DynamoDB::Table", ("Properties", "SSESpecification")),
    ("AWS::DynamoDB::GlobalTable", ("Properties", "SSESpecification")),
    ("AWS::SNS::Topic", ("Properties", "KmsMasterKeyId")),
    ("AWS::SQS::Queue", ("Properties", "KmsMasterKeyId")),
)


def stores_encrypted_with(ctx: Context, key: Resource) -> list[str]:
    """Logical ids of the buckets, tables, topics and queues that `key` (an `AWS::KMS::Key`,
    or an alias of one) encrypts at rest. Those services call KMS themselves: a role that
    holds `kms:Decrypt` for them does not call KMS from its own network."""
    keys = [key]
    if key.type == "AWS::KMS::Alias":
        keys += ctx.targets_at(key, "Properties", "TargetKeyId", types=("AWS::KMS::Key",))
    else:
        keys += ctx.referring_resources(key, types=("AWS::KMS::Alias",),
                                        under=("Properties", "TargetKeyId"))
    found = []
    for each in keys:
        for store_type, under in ENCRYPTION_EDGES:
            found += [e.source_id for e in ctx.referrers(each, types=(store_type,), under=under)]
    return list(dict.fromkeys(found))
