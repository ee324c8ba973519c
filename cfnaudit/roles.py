"""What each resource is for, read from the graph: one answer that every rule shares.

Rules ask here instead of guessing from names. A bucket is a log-delivery target because a
trail, a load balancer or another bucket sends its logs there, not because its name contains
"Logs"; a function is invoked asynchronously because an S3 notification or an EventBridge rule
points at it, not because it exists. Facts come from references (`Ref`, `Fn::GetAtt`,
`Fn::Sub`) at known property paths, from literal names equal to the resource's physical name,
and from policies that grant the delivering service.

`roles_of(template, graph)` returns the graph's one `Roles` (rules share it); its answers are
computed on first use and kept. `Context.role(resource)` is the rule-facing entry point.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import NO_VALUE, Unresolved, is_macro_output, resolve, sub_variables
from cfnaudit.policy import (
    action_matches,
    actions_of,
    effect_of,
    principals_of,
    render,
    resources_of,
    statements,
)
from cfnaudit.values import as_int

if TYPE_CHECKING:
    from cfnaudit.graph import Edge, ResourceGraph
    from cfnaudit.rule import Context
    from cfnaudit.template import Parameter, Resource, Template

BUCKET = "AWS::S3::Bucket"
FUNCTION = "AWS::Lambda::Function"
PERMISSION = "AWS::Lambda::Permission"
FUNCTION_HANDLES = ("AWS::Lambda::Alias", "AWS::Lambda::Version")


class Purpose(enum.Enum):
    """What a resource is for. A resource may have several (a bucket can receive CloudTrail
    and Config logs); a bucket with none of the bucket purposes holds data."""

    ACCESS_LOGS = "S3 server access-log target"
    TRAIL_LOGS = "CloudTrail log target"
    CONFIG_LOGS = "AWS Config delivery target"
    LOAD_BALANCER_LOGS = "load-balancer access-log target"
    CDN_LOGS = "CloudFront log target"
    FLOW_LOGS = "VPC flow-log target"
    FIREHOSE_LOGS = "target of a Firehose stream that delivers logs"
    WAF_LOGS = "WAF log target"
    VENDED_LOGS = "AWS log-delivery target"
    LOG_REPLICA = "replication destination of a log bucket"
    WEBSITE = "static website"
    CDN_ORIGIN = "CloudFront origin"
    ARTIFACTS = "build and deployment artifact store"
    STAGING = "staging area of an ingestion pipeline"
    DATA = "data"
    DEAD_LETTER = "dead-letter queue"
    DEPLOYMENT_HELPER = "function that only serves CloudFormation"
    EDGE = "function that runs at CloudFront edges or on a Greengrass core"
    LOAD_BALANCER_GROUP = "security group of load balancers only"
    PUBLIC_ENTRY = "security group of an internet-facing load balancer"


LOG_DELIVERY = frozenset({
    Purpose.ACCESS_LOGS, Purpose.TRAIL_LOGS, Purpose.CONFIG_LOGS, Purpose.LOAD_BALANCER_LOGS,
    Purpose.CDN_LOGS, Purpose.FLOW_LOGS, Purpose.FIREHOSE_LOGS, Purpose.WAF_LOGS,
    Purpose.VENDED_LOGS, Purpose.LOG_REPLICA})
# Targets whose delivering service writes with SSE-S3 only (no customer-managed key).
SSE_S3_ONLY = frozenset({Purpose.ACCESS_LOGS, Purpose.LOAD_BALANCER_LOGS})
SERVED = frozenset({Purpose.WEBSITE, Purpose.CDN_ORIGIN})
# Buckets whose objects are worth keeping only for a while: they expire, they are not archived.
SHORT_LIVED = LOG_DELIVERY | {Purpose.ARTIFACTS, Purpose.STAGING}


class Invocation(enum.Enum):
    SYNC = "synchronously"
    ASYNC = "asynchronously"
    POLL = "by polling"


@dataclass(frozen=True, slots=True)
class Invoker:
    """One way a function is invoked: `label` names it for messages ("S3 notifications of
    `Raw`"); `deploy_time` marks CloudFormation itself (custom resources, macros)."""

    mode: Invocation
    source: str
    label: str
    deploy_time: bool = False


@dataclass(frozen=True, slots=True)
class Role:
    purposes: frozenset[Purpose]
    invokers: tuple[Invoker, ...] = ()

    def has(self, *purposes: Purpose | Iterable[Purpose]) -> bool:
        wanted: set[Purpose] = set()
        for p in purposes:
            wanted |= {p} if isinstance(p, Purpose) else set(p)
        return bool(self.purposes & wanted)

    @property
    def is_log_bucket(self) -> bool:
        return self.has(LOG_DELIVERY)

    @property
    def modes(self) -> frozenset[Invocation]:
        return frozenset(i.mode for i in self.invokers)

    def invoked(self, mode: Invocation) -> tuple[Invoker, ...]:
        return tuple(i for i in self.invokers if i.mode is mode)

    def describe(self) -> str:
        return ", ".join(sorted(p.value for p in self.purposes)) or "none"


# ---------------------------------------------------------------------------- bucket edges

# (referring type, property path below which a reference to a bucket means `purpose`)
BUCKET_EDGES: tuple[tuple[str, tuple[str, ...], Purpose], ...] = (
    (BUCKET, ("Properties", "LoggingConfiguration", "DestinationBucketName"),
     Purpose.ACCESS_LOGS),
    ("AWS::CloudTrail::Trail", ("Properties", "S3BucketName"), Purpose.TRAIL_LOGS),
    ("AWS::Config::DeliveryChannel", ("Properties", "S3BucketName"), Purpose.CONFIG_LOGS),
    ("AWS::ElasticLoadBalancing::LoadBalancer", ("Properties", "AccessLoggingPolicy"),
     Purpose.LOAD_BALANCER_LOGS),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", ("Properties", "LoadBalancerAttributes"),
     Purpose.LOAD_BALANCER_LOGS),
    ("AWS::CloudFront::Distribution", ("Properties", "DistributionConfig", "Logging"),
     Purpose.CDN_LOGS),
    ("AWS::CloudFront::Distribution", ("Properties", "DistributionConfig", "Origins"),
     Purpose.CDN_ORIGIN),
    ("AWS::EC2::FlowLog", ("Properties", "LogDestination"), Purpose.FLOW_LOGS),
    ("AWS::WAFv2::LoggingConfiguration", ("Properties", "LogDestinationConfigs"),
     Purpose.WAF_LOGS),
    ("AWS::Logs::DeliveryDestination", ("Properties", "DestinationResourceArn"),
     Purpose.VENDED_LOGS),
    ("AWS::CodePipeline::Pipeline", ("Properties", "ArtifactStore"), Purpose.ARTIFACTS),
    ("AWS::CodePipeline::Pipeline", ("Properties", "ArtifactStores"), Purpose.ARTIFACTS),
    ("AWS::CodeBuild::Project", ("Properties", "Artifacts"), Purpose.ARTIFACTS),
    ("AWS::CodeBuild::Project", ("Properties", "SecondaryArtifacts"), Purpose.ARTIFACTS),
    ("AWS::CodeBuild::Project", ("Properties", "Cache"), Purpose.ARTIFACTS),
)
# Where a bucket names the destinations it replicates to (`Rules[i].Destination.Bucket`).
REPLICATION_RULES = ("Properties", "ReplicationConfiguration", "Rules")
FIREHOSE = "AWS::KinesisFirehose::DeliveryStream"
# Paths of a delivery stream's S3 bucket (the main destination and backups).
FIREHOSE_BUCKET_PATHS = (
    ("Properties", "S3DestinationConfiguration"),
    ("Properties", "ExtendedS3DestinationConfiguration"),
)
# What feeds a delivery stream with logs: (type, path of the reference to the stream).
LOG_FEEDS = (
    ("AWS::Logs::SubscriptionFilter", ("Properties", "DestinationArn")),
    ("AWS::Logs::Destination", ("Properties", "TargetArn")),
    ("AWS::WAFv2::LoggingConfiguration", ("Properties", "LogDestinationConfigs")),
    ("AWS::EC2::FlowLog", ("Properties", "LogDestination")),
)
# Services that deliver logs into a bucket, by the principal a bucket policy grants.
DELIVERY_SERVICES = {
    "logging.s3.amazonaws.com": Purpose.ACCESS_LOGS,
    "cloudtrail.amazonaws.com": Purpose.TRAIL_LOGS,
    "config.amazonaws.com": Purpose.CONFIG_LOGS,
    "logdelivery.elasticloadbalancing.amazonaws.com": Purpose.LOAD_BALANCER_LOGS,
    "delivery.logs.amazonaws.com": Purpose.VENDED_LOGS,
}
LOGS_EXPORT = re.compile(r"logs\.(?:[^.]+\.)?amazonaws\.com")
CLOUDFRONT_PRINCIPALS = ("cloudfront.amazonaws.com", "arn:aws:iam::cloudfront:user/")


# -------------------------------------------------------------------------- function edges

# (referring type, path below which a reference to a function means this invocation, label)
INVOKER_EDGES: tuple[tuple[str, tuple[str, ...], Invocation, str], ...] = (
    ("AWS::ApiGateway::Method", ("Properties", "Integration"), Invocation.SYNC,
     "API Gateway method"),
    ("AWS::ApiGateway::Authorizer", ("Properties", "AuthorizerUri"), Invocation.SYNC,
     "API Gateway authorizer"),
    ("AWS::ApiGatewayV2::Integration", ("Properties", "IntegrationUri"), Invocation.SYNC,
     "API Gateway integration"),
    ("AWS::ApiGatewayV2::Authorizer", ("Properties", "AuthorizerUri"), Invocation.SYNC,
     "API Gateway authorizer"),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", ("Properties", "Targets"), Invocation.SYNC,
     "load-balancer target group"),
    ("AWS::Cognito::UserPool", ("Properties", "LambdaConfig"), Invocation.SYNC,
     "Cognito user pool"),
    ("AWS::AppSync::DataSource", ("Properties", "LambdaConfig"), Invocation.SYNC,
     "AppSync data source"),
    ("AWS::AppSync::GraphQLApi", ("Properties", "LambdaAuthorizerConfig"), Invocation.SYNC,
     "AppSync authorizer"),
    ("AWS::Lambda::Url", ("Properties", "TargetFunctionArn"), Invocation.SYNC, "function URL"),
    ("AWS::StepFunctions::StateMachine", ("Properties",), Invocation.SYNC, "state machine"),
    ("AWS::CloudFront::Distribution", ("Properties", "DistributionConfig"), Invocation.SYNC,
     "CloudFront distribution"),
    (FIREHOSE, ("Properties",), Invocation.SYNC, "Firehose record transformation of"),
    ("AWS::Pipes::Pipe", ("Properties", "Enrichment"), Invocation.SYNC, "pipe enrichment"),
    ("AWS::Pipes::Pipe", ("Properties", "Target"), Invocation.SYNC, "pipe"),
    ("AWS::S3::Bucket", ("Properties", "NotificationConfiguration", "LambdaConfigurations"),
     Invocation.ASYNC, "S3 notifications of"),
    ("AWS::SNS::Subscription", ("Properties", "Endpoint"), Invocation.ASYNC, "SNS subscription"),
    ("AWS::SNS::Topic", ("Properties", "Subscription"), Invocation.ASYNC, "SNS topic"),
    ("AWS::Events::Rule", ("Properties", "Targets"), Invocation.ASYNC, "EventBridge rule"),
    ("AWS::Scheduler::Schedule", ("Properties", "Target", "Arn"), Invocation.ASYNC, "schedule"),
    ("AWS::IoT::TopicRule", ("Properties", "TopicRulePayload"), Invocation.ASYNC, "IoT rule"),
    ("AWS::Logs::SubscriptionFilter", ("Properties", "DestinationArn"), Invocation.ASYNC,
     "log subscription"),
    ("AWS::Config::ConfigRule", ("Properties", "Source"), Invocation.ASYNC, "Config rule"),
    ("AWS::SES::ReceiptRule", ("Properties", "Rule"), Invocation.ASYNC, "SES receipt rule"),
    ("AWS::Lambda::EventSourceMapping", ("Properties", "FunctionName"), Invocation.POLL,
     "event source mapping"),
)
# Resources that run a function version away from the stack's region.
EDGE_TYPES = ("AWS::CloudFront::Distribution", "AWS::Greengrass::FunctionDefinition",
              "AWS::Greengrass::FunctionDefinitionVersion", "AWS::GreengrassV2::ComponentVersion")
# Service principals of `AWS::Lambda::Permission`, by their first label.
PERMISSION_MODES = {
    "s3": Invocation.ASYNC, "sns": Invocation.ASYNC, "events": Invocation.ASYNC,
    "scheduler": Invocation.ASYNC, "iot": Invocation.ASYNC, "logs": Invocation.ASYNC,
    "config": Invocation.ASYNC, "ses": Invocation.ASYNC,
    "apigateway": Invocation.SYNC, "elasticloadbalancing": Invocation.SYNC,
    "cognito-idp": Invocation.SYNC, "appsync": Invocation.SYNC, "lex": Invocation.SYNC,
    "secretsmanager": Invocation.SYNC,
}
SERVICE_NAMES = {"s3": "Amazon S3", "sns": "Amazon SNS", "events": "EventBridge",
                 "scheduler": "EventBridge Scheduler", "iot": "AWS IoT",
                 "logs": "CloudWatch Logs", "config": "AWS Config", "ses": "Amazon SES",
                 "apigateway": "API Gateway", "elasticloadbalancing": "Elastic Load Balancing",
                 "cognito-idp": "Cognito", "appsync": "AppSync", "lex": "Amazon Lex",
                 "secretsmanager": "Secrets Manager"}


BALANCERS = ("AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancing::LoadBalancer")
# Resources that refer to a security group without attaching it to anything.
GROUP_RULES = ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress",
               "AWS::EC2::SecurityGroupEgress")


# ------------------------------------------------------------------------------ dead letters

# (source type, path below which a reference means "this queue receives failures")
DEAD_LETTER_EDGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS::SQS::Queue", ("Properties", "RedrivePolicy")),
    (FUNCTION, ("Properties", "DeadLetterConfig")),
    ("AWS::Lambda::EventInvokeConfig", ("Properties", "DestinationConfig", "OnFailure")),
    ("AWS::Lambda::EventSourceMapping", ("Properties", "DestinationConfig", "OnFailure")),
    ("AWS::SNS::Subscription", ("Properties", "RedrivePolicy")),
    ("AWS::Events::Rule", ("Properties", "Targets")),
    ("AWS::Pipes::Pipe", ("Properties", "SourceParameters")),
)


def _is_dead_letter_edge(source_type: str, path: tuple[object, ...]) -> bool:
    if source_type == "AWS::Events::Rule":  # Targets[i].DeadLetterConfig, not Targets[i].Arn
        return path[5:6] == ("DeadLetterConfig",)
    if source_type == "AWS::Pipes::Pipe":
        return "DeadLetterConfig" in path
    return True


# ------------------------------------------------------------------------------ data stores

# Physical names that are global (one namespace for every region) or shared across regions.
GLOBAL_NAME_TYPES = frozenset({
    BUCKET, "AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::Group",
    "AWS::IAM::InstanceProfile", "AWS::IAM::ServerCertificate", "AWS::DynamoDB::GlobalTable",
    "AWS::CloudFront::Function", "AWS::CloudFront::Distribution",
    "AWS::CloudFront::CachePolicy", "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::ResponseHeadersPolicy", "AWS::CloudFront::OriginAccessControl",
    "AWS::Route53::HostedZone", "AWS::CloudWatch::Dashboard",
})


# ------------------------------------------------------------------ rule scopes

CLOUDFRONT = "AWS::CloudFront::Distribution"
EDGE_REGION = "us-east-1"


STREAM_CONSUMER = "AWS::Kinesis::StreamConsumer"
# (type, path below which a reference to a stream makes the resource read it with GetRecords)
STREAM_READER_EDGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS::Lambda::EventSourceMapping", ("Properties", "EventSourceArn")),
    ("AWS::Serverless::Function", ("Properties", "Events")),
    (FIREHOSE, ("Properties", "KinesisStreamSourceConfiguration")),
    ("AWS::Pipes::Pipe", ("Properties", "Source")),
    ("AWS::KinesisAnalytics::Application", ("Properties", "Inputs")),
    ("AWS::KinesisAnalyticsV2::Application", ("Properties",)),
)
POLICY_HOLDERS = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                  "AWS::Serverless::Function")


def _reads_stream(source: Resource, edge: Edge) -> bool:
    for reader_type, under in STREAM_READER_EDGES:
        if source.type == reader_type and edge.under(*under):
            return True
    if source.type not in POLICY_HOLDERS:
        return False
    if "KinesisStreamReadPolicy" in edge.path:  # the SAM policy template
        return True
    if "Statement" not in edge.path:
        return False
    cut = edge.path.index("Statement") + 2  # down to the statement itself
    statement = _at_path(source.raw, edge.path[2:cut])
    return isinstance(statement, dict) and effect_of(statement) == "Allow" and any(
        action_matches(a, "kinesis:GetRecords") for a in actions_of(statement))


def _at_path(value: Any, path: tuple[object, ...]) -> Any:
    for key in path:
        if isinstance(value, dict) and isinstance(key, str):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
    return value


# Physical names AWS services require verbatim, by type.
FIXED_NAMES = {
    "AWS::IAM::Role": frozenset({"dms-vpc-role", "dms-cloudwatch-logs-role",
                                 "dms-access-for-endpoint"}),
}


# ----------------------------------------------------------------------------- environments

# Parameter names that carry the deployment environment (matched whole, any case).
ENVIRONMENT_NAME = re.compile(
    r"(?i)(?:deployment|target)?(?:env|environment|stage)(?:name|type|suffix|id)?")
ENVIRONMENT_VALUES = frozenset({
    "dev", "development", "test", "testing", "qa", "uat", "stage", "staging", "preprod",
    "prod", "production", "prd", "sandbox", "demo", "int", "integration", "perf", "live"})


def _api_stage(parameter: Parameter) -> bool:
    """A `Stage`/`StageName` parameter whose default is no environment (`v1`, `api`): an API
    Gateway stage, not the deployment environment."""
    if "stage" not in parameter.name.lower() or not isinstance(parameter.default, str):
        return False
    default = parameter.default.strip().lower()
    return bool(default) and default not in ENVIRONMENT_VALUES


# ---------------------------------------------------------------------------------- the roles


def _strings(value: Any, template: Template) -> Iterator[str]:
    """Every string a value may hold, intrinsics rendered to text (`${Bucket.Arn}`)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            yield render(value, template)
        else:
            for item in value.values():
                yield from _strings(item, template)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, template)


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _names_bucket(text: str, name: str) -> bool:
    """A literal reference to bucket `name`: the name, its ARN or ARN prefix, its domain."""
    text = text.strip()
    return (text == name or text.startswith((f"arn:aws:s3:::{name}/", f"{name}/",
                                             f"{name}.s3.", f"s3://{name}/"))
            or text in (f"arn:aws:s3:::{name}", f"s3://{name}"))


@dataclass
class Roles:
    template: Template
    graph: ResourceGraph
    _cache: dict[str, Role] = field(default_factory=dict)
    _literal: dict[str, set[Purpose]] | None = None

    # -------------------------------------------------------------------- public answers

    def role(self, resource: Resource) -> Role:
        """The purposes (and for functions the invokers) of `resource`."""
        cached = self._cache.get(resource.logical_id)
        if cached is None:
            cached = self._derive(resource)
            self._cache[resource.logical_id] = cached
        return cached

    def _derive(self, resource: Resource) -> Role:
        if resource.type == BUCKET:
            return Role(self._bucket_purposes(resource))
        if resource.type == FUNCTION:
            invokers = self._invokers(resource)
            purposes = set()
            if invokers and all(i.deploy_time for i in invokers):
                purposes.add(Purpose.DEPLOYMENT_HELPER)
            if self._runs_at_edge(resource):
                purposes.add(Purpose.EDGE)
            return Role(frozenset(purposes), invokers)
        if resource.type == "AWS::SQS::Queue":
            return Role(frozenset({Purpose.DEAD_LETTER} if self.dead_letter_sources(resource)
                                  else ()))
        if resource.type == "AWS::EC2::SecurityGroup":
            return Role(self._group_purposes(resource))
        return Role(frozenset())

    def dead_letter_sources(self, queue: Resource) -> list[str]:
        """Logical ids of the resources that send their failures to `queue` (queue redrive,
        function dead-letter config, on-failure destinations, subscription redrive, rule-target
        and pipe dead-letter configs), in the order found."""
        found = []
        for source_type, under in DEAD_LETTER_EDGES:
            for edge in self.graph.referrers(queue.logical_id, types=(source_type,),
                                             under=under):
                if _is_dead_letter_edge(source_type, edge.path):
                    found.append(edge.source_id)
        return list(dict.fromkeys(found))

    def keeps_data(self, resource: Resource, *, log_group_days: int,
                   stream_hours: int) -> bool:
        """Whether deleting `resource` loses data worth keeping: a log group kept longer
        than `log_group_days` (or forever), a Kinesis stream kept longer than
        `stream_hours`, a bucket that is more than a build-artifact store; every other store
        does. Unreadable retention counts as keeping."""
        if resource.type == "AWS::Logs::LogGroup":
            return self._retention_over(resource, "RetentionInDays", log_group_days)
        if resource.type == "AWS::Kinesis::Stream":
            return self._retention_over(resource, "RetentionPeriodHours", stream_hours,
                                        default=24)
        if resource.type == BUCKET:  # build artifacts are rebuilt, staged copies re-derived
            return not self.role(resource).purposes <= {Purpose.ARTIFACTS, Purpose.STAGING}
        return True

    @staticmethod
    def has_global_name(resource: Resource) -> bool:
        """The physical name lives in a namespace shared by every region."""
        return resource.type in GLOBAL_NAME_TYPES

    # ------------------------------------------------------------------ rule scopes

    def pinned_region(self) -> str | None:
        """The one region the stack can be deployed in, when the template shows it: a stack
        holding a Lambda@Edge function deploys only in us-east-1 (CloudFront takes function
        versions from there alone)."""
        for distribution in self.template.of_type(CLOUDFRONT):
            for edge in self.graph.targets(distribution.logical_id):
                if "LambdaFunctionAssociations" in edge.path:
                    return EDGE_REGION
        return None

    def steady_invoker(self, invoker: Invoker) -> bool:
        """The invoker fires at a pace the stack sets, not with the traffic: a schedule (an
        EventBridge rule with a `ScheduleExpression` and no event pattern, an EventBridge
        Scheduler schedule) or an AWS Config rule evaluation."""
        source = self.template.resources.get(invoker.source)
        if source is None:
            return False
        if source.type in ("AWS::Config::ConfigRule", "AWS::Scheduler::Schedule"):
            return True
        if source.type == "AWS::Events::Rule":
            return ("ScheduleExpression" in source.properties
                    and "EventPattern" not in source.properties)
        if source.type == PERMISSION:
            return _service(resolve(source.properties.get("Principal"), self.template),
                            source.properties.get("Principal")) in ("config", "scheduler")
        return False

    def stream_readers(self, stream: Resource) -> tuple[list[str], list[str]]:
        """Who reads a Kinesis stream in the stack: (readers that share its throughput through
        GetRecords: event source mappings, SAM stream events, Firehose, Pipes, analytics
        applications, policies granting `kinesis:GetRecords` on it; enhanced fan-out
        consumers: `AWS::Kinesis::StreamConsumer`), logical ids in template order."""
        shared: list[str] = []
        fan_out: list[str] = []
        for edge in self.graph.referrers(stream.logical_id, kinds=("Ref", "GetAtt", "Sub")):
            source = self.template.resources[edge.source_id]
            if source.type == STREAM_CONSUMER:
                fan_out.append(source.logical_id)
            elif _reads_stream(source, edge):
                shared.append(source.logical_id)
        return list(dict.fromkeys(shared)), list(dict.fromkeys(fan_out))

    def single_zone(self, resource: Resource) -> bool:
        """The resource lives in exactly one availability zone by design, so more zones in
        its network would not make it survive a zone outage: an EC2 instance, a
        `SINGLE_INSTANCE` Amazon MQ broker, a single-node cache or search domain."""
        props = resource.properties
        if resource.type in ("AWS::EC2::Instance", "AWS::EC2::NetworkInterface"):
            return True
        if resource.type == "AWS::AmazonMQ::Broker":
            return bool(resolve(props.get("DeploymentMode"), self.template) == "SINGLE_INSTANCE")
        if resource.type == "AWS::ElastiCache::CacheCluster":
            return as_int(resolve(props.get("NumCacheNodes", 1), self.template)) == 1
        return False

    def name_fixed_by_aws(self, resource: Resource, property_name: str) -> bool:
        """The physical name is one an AWS service looks up by that exact name (DMS uses the
        roles `dms-vpc-role` and `dms-cloudwatch-logs-role`): nothing can be added to it."""
        name = resolve(resource.properties.get(property_name), self.template)
        return isinstance(name, str) and name in FIXED_NAMES.get(resource.type, ())

    def environment_parameters(self, configured: Iterable[str] = ()) -> list[str]:
        """Parameters that carry the deployment environment, in template order: the
        `configured` names, the usual names (`Env`, `EnvName`, `EnvType`, `Environment`,
        `EnvironmentName`, `Stage`, `StageName`...; any case) and parameters whose allowed
        values are environments (at least two of dev, test, staging, prod...)."""
        wanted = {name.lower() for name in configured}
        found = []
        for name, parameter in self.template.parameters.items():
            environments = {str(v).strip().lower() for v in parameter.allowed_values}
            named = ENVIRONMENT_NAME.fullmatch(name) is not None and not _api_stage(parameter)
            if name.lower() in wanted or named or len(environments & ENVIRONMENT_VALUES) >= 2:
                found.append(name)
        return found

    # --------------------------------------------------------------------------- buckets

    def _bucket_purposes(self, bucket: Resource, *,
                         follow_replicas: bool = True) -> frozenset[Purpose]:
        found: set[Purpose] = set()
        for source_type, under, purpose in BUCKET_EDGES:
            for edge in self.graph.referrers(bucket.logical_id, types=(source_type,),
                                             under=under):
                if edge.source_id != bucket.logical_id and self._edge_counts(edge):
                    found.add(purpose)
        for source_type, under in ((FIREHOSE, p) for p in FIREHOSE_BUCKET_PATHS):
            for edge in self.graph.referrers(bucket.logical_id, types=(source_type,),
                                             under=under):
                if self._feeds_logs(edge.source_id):
                    found.add(Purpose.FIREHOSE_LOGS)
        name = self._bucket_name(bucket)
        if name:
            found |= self._literal_purposes().get(name, set())
        found |= self._same_value_purposes(bucket)
        if "WebsiteConfiguration" in bucket.properties:
            found.add(Purpose.WEBSITE)
        if bucket.properties.get("AccessControl") == "LogDeliveryWrite":
            found.add(Purpose.ACCESS_LOGS)
        found |= self._policy_purposes(bucket)
        if follow_replicas:
            found |= self._replica_purposes(bucket)
        if not found and _used_only_by_builds(self.template, self.graph, bucket):
            found.add(Purpose.ARTIFACTS)  # its pipeline is in another stack
        if not found and _stages_only(self.template, self.graph, bucket):
            found.add(Purpose.STAGING)
        return frozenset(found or {Purpose.DATA})

    def _replica_purposes(self, bucket: Resource) -> set[Purpose]:
        """What a replication destination holds: its sources' objects. The replica of a log
        bucket holds logs (expired, not archived), of an artifact store artifacts. Not the
        sources' writers or readers: S3 replication writes the replica (with any key) and
        nothing serves it, so a source's delivery service or CloudFront is not carried over."""
        found: set[Purpose] = set()
        for edge in self.graph.referrers(bucket.logical_id, types=(BUCKET,),
                                         under=REPLICATION_RULES):
            if edge.source_id == bucket.logical_id or "Destination" not in edge.path:
                continue
            source = self.template.resources[edge.source_id]
            purposes = self._bucket_purposes(source, follow_replicas=False)
            if purposes & LOG_DELIVERY:
                found.add(Purpose.LOG_REPLICA)
            if Purpose.ARTIFACTS in purposes:
                found.add(Purpose.ARTIFACTS)
        return found

    def _edge_counts(self, edge: Edge) -> bool:
        source = self.template.resources[edge.source_id]
        if source.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            # LoadBalancerAttributes[i].Value counts only under a log-bucket key.
            attributes = source.properties.get("LoadBalancerAttributes")
            index = edge.path[4] if len(edge.path) > 4 else None
            item = attributes[index] if isinstance(attributes, list) and isinstance(
                index, int) and index < len(attributes) else None
            key = item.get("Key") if isinstance(item, dict) else None
            return isinstance(key, str) and key.endswith("s3.bucket")
        return True

    def _bucket_name(self, bucket: Resource) -> str | None:
        raw = bucket.properties.get("BucketName")
        if raw is None or raw is NO_VALUE:
            return None
        text = render(raw, self.template)
        return text if text and "${" not in text else None

    def _literal_purposes(self) -> dict[str, set[Purpose]]:
        """Bucket names referred to by literal text (not `Ref`), with what they serve."""
        if self._literal is None:
            names = {n for b in self.template.of_type(BUCKET) if (n := self._bucket_name(b))}
            index: dict[str, set[Purpose]] = {}
            for source_type, under, purpose in BUCKET_EDGES:
                for source in self.template.of_type(source_type):
                    for text in _strings(_at(source.raw, under), self.template):
                        for name in names:
                            if _names_bucket(text, name):
                                index.setdefault(name, set()).add(purpose)
            self._literal = index
        return self._literal

    def _same_value_purposes(self, bucket: Resource) -> set[Purpose]:
        """Purposes given by a name written exactly as the bucket's `BucketName` intrinsic
        (`S3BucketName: !Ref LogBucketName` beside `BucketName: !Ref LogBucketName`): the
        same parameter gives the same name at deployment."""
        raw = bucket.properties.get("BucketName")
        if not isinstance(raw, dict):
            return set()
        found = set()
        for source_type, under, purpose in BUCKET_EDGES:
            for source in self.template.of_type(source_type):
                if source is not bucket and _at(source.raw, under) == raw:
                    found.add(purpose)
        return found

    def _feeds_logs(self, stream_id: str) -> bool:
        stream = self.template.resources[stream_id]
        name = render(stream.properties.get("DeliveryStreamName", ""), self.template)
        if name.startswith("aws-waf-logs-"):
            return True
        return any(self.graph.referrers(stream_id, types=(t,), under=u) for t, u in LOG_FEEDS)

    def _policy_purposes(self, bucket: Resource) -> set[Purpose]:
        found: set[Purpose] = set()
        for policy in self._bucket_policies(bucket):
            for statement in statements(policy.properties.get("PolicyDocument")):
                if effect_of(statement) != "Allow":
                    continue
                for principal in principals_of(statement, self.template):
                    if principal.kind == "Service" and principal.text in DELIVERY_SERVICES:
                        found.add(DELIVERY_SERVICES[principal.text])
                    elif principal.kind == "Service" and LOGS_EXPORT.fullmatch(principal.text):
                        found.add(Purpose.VENDED_LOGS)  # CloudWatch Logs export tasks
                    if principal.text.startswith(CLOUDFRONT_PRINCIPALS) or (
                            principal.kind == "CanonicalUser"
                            and "S3CanonicalUserId" in principal.text):
                        found.add(Purpose.CDN_ORIGIN)
                if any(a.lower() in ("s3:putobject", "s3:*") for a in actions_of(statement)) \
                        and any("/AWSLogs/" in r for r in resources_of(statement,
                                                                       self.template)):
                    found.add(Purpose.VENDED_LOGS)  # the key layout of AWS log delivery
        return found

    def _bucket_policies(self, bucket: Resource) -> list[Resource]:
        found = self.graph.referring_resources(bucket.logical_id,
                                               types=("AWS::S3::BucketPolicy",),
                                               under=("Properties", "Bucket"))
        name = self._bucket_name(bucket)
        if name:
            found += [p for p in self.template.of_type("AWS::S3::BucketPolicy")
                      if p not in found and render(p.properties.get("Bucket"),
                                                   self.template) == name]
        return found

    # ------------------------------------------------------------------------- functions

    def _handles(self, function: Resource) -> list[str]:
        """The function and its aliases and versions: anything an invoker may point at."""
        return [function.logical_id, *(r.logical_id for r in self.graph.referring_resources(
            function.logical_id, types=FUNCTION_HANDLES, under=("Properties", "FunctionName")))]

    def _invokers(self, function: Resource) -> tuple[Invoker, ...]:
        found: list[Invoker] = []
        resources = self.template.resources
        for handle in self._handles(function):
            for edge in self.graph.referrers(handle, kinds=("Ref", "GetAtt", "Sub")):
                source = resources[edge.source_id]
                if edge.under("Properties", "ServiceToken"):
                    found.append(Invoker(Invocation.SYNC, edge.source_id,
                                         f"custom resource `{edge.source_id}`", True))
                elif source.type == "AWS::CloudFormation::Macro":
                    found.append(Invoker(Invocation.SYNC, edge.source_id,
                                         f"macro `{edge.source_id}`", True))
                found += self._edge_invokers(edge, source.type)
        for permission in self._permissions(function):
            service = _service(resolve(permission.properties.get("Principal"), self.template),
                               permission.properties.get("Principal"))
            if service in PERMISSION_MODES:
                found.append(Invoker(PERMISSION_MODES[service], permission.logical_id,
                                     f"{SERVICE_NAMES[service]} (permission "
                                     f"`{permission.logical_id}`)"))
        return tuple(dict.fromkeys(found))

    def _edge_invokers(self, edge: Edge, source_type: str) -> Iterator[Invoker]:
        for invoker_type, under, mode, label in INVOKER_EDGES:
            if source_type != invoker_type or not edge.under(*under):
                continue
            if invoker_type == "AWS::Events::Rule" and edge.path[5:6] != ("Arn",):
                continue  # a dead-letter queue or role of the target, not the target
            if invoker_type == FIREHOSE and "ProcessingConfiguration" not in edge.path:
                continue
            yield Invoker(mode, edge.source_id, f"{label} `{edge.source_id}`")
            return

    def _runs_at_edge(self, function: Resource) -> bool:
        """A version of the function is associated with a CloudFront distribution (Lambda@Edge)
        or deployed to a Greengrass core: it runs outside the stack's region."""
        for handle in self._handles(function):
            for edge in self.graph.referrers(handle, types=EDGE_TYPES):
                if "LambdaFunctionAssociations" in edge.path or self.template.resources[
                        edge.source_id].type != "AWS::CloudFront::Distribution":
                    return True
        return False

    def _permissions(self, function: Resource) -> list[Resource]:
        found: dict[str, Resource] = {}
        for handle in self._handles(function):
            for r in self.graph.referring_resources(handle, types=(PERMISSION,),
                                                    under=("Properties", "FunctionName")):
                found[r.logical_id] = r
        name = _function_name(resolve(function.properties.get("FunctionName"), self.template))
        if name and "FunctionName" in function.properties:
            for permission in self.template.of_type(PERMISSION):
                raw = permission.properties.get("FunctionName")
                if permission.logical_id not in found and not (
                        isinstance(raw, dict) and ("Ref" in raw or "Fn::GetAtt" in raw)) \
                        and _function_name(resolve(raw, self.template)) == name:
                    found[permission.logical_id] = permission
        return list(found.values())

    # ------------------------------------------------------------------- security groups

    def _group_purposes(self, group: Resource) -> frozenset[Purpose]:
        """A group attached to load balancers and to nothing else (an instance sharing it
        would be open to the internet too); a public entry when one of them is
        internet-facing."""
        referrers = self.graph.referring_resources(group.logical_id)
        balancers = self.graph.referring_resources(group.logical_id, types=BALANCERS,
                                                   under=("Properties", "SecurityGroups"))
        if not balancers or any(r.type not in BALANCERS + GROUP_RULES for r in referrers):
            return frozenset()
        found = {Purpose.LOAD_BALANCER_GROUP}
        if any(resolve(b.properties.get("Scheme", "internet-facing"), self.template)
               == "internet-facing" for b in balancers):
            found.add(Purpose.PUBLIC_ENTRY)
        return frozenset(found)

    # ------------------------------------------------------------------------ retention

    def _retention_over(self, resource: Resource, key: str, limit: int,
                        default: int | None = None) -> bool:
        if key not in resource.properties:
            return default is None or default > limit  # absent: kept forever, or the default
        value = as_int(resolve(resource.properties[key], self.template))
        if value is None or isinstance(value, Unresolved):
            return True
        return value > limit


def _function_name(value: Any) -> str | None:
    """The bare function name in a literal name, partial or full ARN (qualifier dropped)."""
    if not isinstance(value, str) or not value:
        return None
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value.split(":", 1)[0]


def _service(resolved: Any, raw: Any) -> str | None:
    """`s3` for `s3.amazonaws.com` (also inside a Fn::Sub template)."""
    if isinstance(resolved, Unresolved):
        sub = raw.get("Fn::Sub") if isinstance(raw, dict) else None
        resolved = sub if isinstance(sub, str) else (
            sub[0] if isinstance(sub, list) and sub and isinstance(sub[0], str) else None)
    if isinstance(resolved, str) and "." in resolved:
        return resolved.split(".", 1)[0]
    return None


def roles_of(template: Template, graph: ResourceGraph) -> Roles:
    """The one `Roles` of this template and graph, kept by the graph so that every rule of
    the scan shares its answers and nothing outlives the template."""
    return graph.roles


# ------------------------------------------------------- the rule API's Context-level helpers


def dead_letter_sources(ctx: Context, queue: Resource) -> list[str]:
    """Logical ids of the resources that send their failures to `queue`."""
    return roles_of(ctx.template, ctx.graph).dead_letter_sources(queue)


def is_dead_letter_queue(ctx: Context, queue: Resource) -> bool:
    return ctx.role(queue).has(Purpose.DEAD_LETTER)


def is_deployment_helper(ctx: Context, function: Resource) -> bool:
    """A function that only serves CloudFormation itself (the ServiceToken of custom
    resources, a macro's function) with nothing that invokes it at run time: its failures
    fail the deployment, where they are seen."""
    return ctx.role(function).has(Purpose.DEPLOYMENT_HELPER)


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


# (resource type, property below which a reference to a key means its data is encrypted with
# it): the stores a deleted key leaves unreadable, beyond the service-side ones above.
KEY_STORE_EDGES: tuple[tuple[str, tuple[str, ...]], ...] = ENCRYPTION_EDGES + tuple(
    (store_type, ("Properties", prop)) for store_type, prop in (
        ("AWS::Kinesis::Stream", "StreamEncryption"), ("AWS::Logs::LogGroup", "KmsKeyId"),
        ("AWS::RDS::DBInstance", "KmsKeyId"), ("AWS::RDS::DBCluster", "KmsKeyId"),
        ("AWS::EFS::FileSystem", "KmsKeyId"), ("AWS::FSx::FileSystem", "KmsKeyId"),
        ("AWS::EC2::Volume", "KmsKeyId"), ("AWS::ElastiCache::ReplicationGroup", "KmsKeyId"),
        ("AWS::Neptune::DBCluster", "KmsKeyId"), ("AWS::DocDB::DBCluster", "KmsKeyId"),
        ("AWS::Redshift::Cluster", "KmsKeyId"),
        ("AWS::OpenSearchService::Domain", "EncryptionAtRestOptions"),
        ("AWS::Elasticsearch::Domain", "EncryptionAtRestOptions"),
        ("AWS::Backup::BackupVault", "EncryptionKeyArn"),
        ("AWS::ECR::Repository", "EncryptionConfiguration"),
        ("AWS::SecretsManager::Secret", "KmsKeyId")))
# Resources that refer to a key without encrypting anything with it: grants and aliases.
_KEY_GRANTS = frozenset({"AWS::KMS::Alias", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                         "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})


def stores_under_key(ctx: Context, key: Resource) -> list[Resource] | None:
    """The stores of the stack whose data `key` (an `AWS::KMS::Key`) encrypts, directly or
    through an alias, in template order; None when the key has another use the template does
    not explain (a trail, a delivery stream, a function, an output other stacks import, or
    nothing in the stack at all: it is used from outside)."""
    handles = [key, *ctx.referring_resources(key, types=("AWS::KMS::Alias",),
                                             under=("Properties", "TargetKeyId"))]
    if any(edge.target == ("Resources", h.logical_id)
           for edge in ctx.graph.output_edges() for h in handles):
        return None
    found: list[str] = []
    for handle in handles:
        for edge in ctx.referrers(handle, kinds=("Ref", "GetAtt", "Sub")):
            source = ctx.template.resources[edge.source_id]
            if source.type in _KEY_GRANTS or source is key:
                continue
            if not any(source.type == t and edge.under(*under) for t, under in KEY_STORE_EDGES):
                return None
            found.append(edge.source_id)
    if not found:
        return None
    return [r for i, r in ctx.template.resources.items() if i in found]


def _key_handles(ctx: Context, key: Resource) -> list[Resource]:
    return [key, *ctx.referring_resources(key, types=("AWS::KMS::Alias",),
                                          under=("Properties", "TargetKeyId"))]


def key_exported(ctx: Context, key: Resource) -> bool:
    """An output publishes the key or one of its aliases: other stacks may encrypt with it."""
    handles = {("Resources", h.logical_id) for h in _key_handles(ctx, key)}
    return any(edge.target in handles for edge in ctx.graph.output_edges())


def stack_stores_under_key(ctx: Context, key: Resource) -> list[Resource]:
    """The stores of the stack that `key` encrypts (directly or through an alias), in
    template order, whatever else uses the key: what a message can name even when
    `stores_under_key` cannot vouch for every use."""
    found = {edge.source_id for handle in _key_handles(ctx, key)
             for edge in ctx.referrers(handle, kinds=("Ref", "GetAtt", "Sub"))
             if any(ctx.template.resources[edge.source_id].type == t and edge.under(*under)
                    for t, under in KEY_STORE_EDGES)}
    return [r for i, r in ctx.template.resources.items() if i in found and r is not key]


# ------------------------------------------------------------- what a security group guards

VPC_ENDPOINT = "AWS::EC2::VPCEndpoint"
# Network interfaces a managed service places in the VPC to answer connections: no user code
# runs behind them, and they open no connections of their own to the internet. VPC endpoints
# are not among them: their group is where a private network's design is reviewed.
MANAGED_INTERFACE_TYPES = frozenset({
    *BALANCERS, "AWS::EFS::MountTarget", "AWS::S3Files::MountTarget",
    "AWS::FSx::FileSystem", "AWS::AmazonMQ::Broker", "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster", "AWS::DocDB::DBCluster", "AWS::DocDB::DBInstance",
    "AWS::Neptune::DBCluster", "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache",
    "AWS::MemoryDB::Cluster", "AWS::DAX::Cluster", "AWS::Redshift::Cluster",
    "AWS::RedshiftServerless::Workgroup", "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain", "AWS::MSK::Cluster",
})
# General-purpose hosts: instances and what launches them. They install packages and pull
# images at boot, from the internet unless the stack gives their network endpoints.
HOST_TYPES = frozenset({
    "AWS::EC2::Instance", "AWS::EC2::NetworkInterface", "AWS::EC2::LaunchTemplate",
    "AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::SpotFleet",
    "AWS::Batch::ComputeEnvironment",
})
INTERNAL_ENTRY_PORTS = frozenset({80, 443})


def group_attachments(ctx: Context, group: Resource) -> list[Resource]:
    """The resources a security group is attached to (rules that name it as a source or
    target do not attach it)."""
    return [r for r in ctx.referring_resources(group) if r.type not in GROUP_RULES]


def opens_no_connections(ctx: Context, group: Resource) -> bool:
    """The group is attached only to managed service interfaces (mount targets, brokers,
    databases, caches, load balancers): nothing behind it initiates traffic
    to the internet, so its egress rules allow nothing that happens."""
    attached = group_attachments(ctx, group)
    return bool(attached) and all(r.type in MANAGED_INTERFACE_TYPES for r in attached)


def hosts_without_endpoints(ctx: Context, group: Resource) -> bool:
    """The group is attached to general-purpose hosts (instances, launch configurations and
    templates, Batch compute environments), besides managed interfaces, and the stack
    declares no interface VPC endpoint (S3 and DynamoDB gateway endpoints do not reach
    registries or the other AWS APIs): such hosts reach package repositories, registries and AWS
    APIs through the internet, which is what their egress is for."""
    if any(resolve(e.properties.get("VpcEndpointType", "Gateway"), ctx.template) == "Interface"
           for e in ctx.template.of_type(VPC_ENDPOINT)):
        return False
    attached = group_attachments(ctx, group)
    return any(r.type in HOST_TYPES for r in attached) and all(
        r.type in HOST_TYPES or r.type in MANAGED_INTERFACE_TYPES for r in attached)


def internal_entry(ctx: Context, group: Resource) -> bool:
    """The group guards only entry points with private addresses (load balancers with
    `Scheme: internal`, interface VPC endpoints) in a VPC the stack declares without an
    internet gateway: no connection from the internet can reach them, so their web ports
    may accept any source address of the network."""
    attached = group_attachments(ctx, group)
    if not attached:
        return False
    for resource in attached:
        if resource.type in BALANCERS:
            scheme = resolve(resource.properties.get("Scheme", "internet-facing"),
                             ctx.template)
            if scheme != "internal":
                return False
        elif resource.type != VPC_ENDPOINT:
            return False
    vpcs = ctx.targets_at(group, "Properties", "VpcId", types=("AWS::EC2::VPC",))
    return bool(vpcs) and not any(_has_internet_gateway(ctx, vpc) for vpc in vpcs)


def _has_internet_gateway(ctx: Context, vpc: Resource) -> bool:
    return any("InternetGatewayId" in a.properties for a in ctx.referring_resources(
        vpc, types=("AWS::EC2::VPCGatewayAttachment",), under=("Properties", "VpcId")))



TASK_DEFINITION = "AWS::ECS::TaskDefinition"
FUNCTION_TYPES = (FUNCTION, "AWS::Serverless::Function")
# Container hosts: their tasks and nodes pull images from registries and call AWS APIs through
# their own interfaces, like the instances of HOST_TYPES (an ECS service's or task set's group
# is its `awsvpc` tasks' group; an EKS cluster's group is shared by its node group's template).
CONTAINER_HOST_TYPES = frozenset({"AWS::ECS::Service", "AWS::ECS::TaskSet", "AWS::EKS::Cluster",
                                  TASK_DEFINITION})
ROUTE_TABLE = "AWS::EC2::RouteTable"
# Whatever of these a VPC has can carry its traffic out of it, toward the internet or a
# network that reaches it (NAT, transit and peering all need a route or an attachment).
VPC_EXITS = ("AWS::EC2::VPCGatewayAttachment", "AWS::EC2::TransitGatewayAttachment",
             "AWS::EC2::TransitGatewayVpcAttachment", "AWS::EC2::VPCPeeringConnection")


def internet_unreachable(ctx: Context, group: Resource) -> bool:
    """The group is in a VPC the stack declares with no way out: no internet or VPN gateway
    attached, no transit or peering attachment, no NAT gateway and no route on any of its
    route tables (an S3/DynamoDB gateway endpoint adds its routes without a route resource).
    Its egress, default or explicit, reaches only the VPC and its endpoints."""
    vpcs = ctx.targets_at(group, "Properties", "VpcId", types=("AWS::EC2::VPC",))
    return bool(vpcs) and not any(_vpc_has_exit(ctx, vpc) for vpc in vpcs)


def group_users(ctx: Context, group: Resource) -> list[Resource]:
    """What the group guards: the resources attached to it, except that a function whose
    `Environment` names the group hands it to what the function launches; when the same
    environment names an ECS task definition of the stack, that is the task definition
    (its tasks are run with the group), otherwise nothing the stack shows."""
    users: dict[str, Resource] = {}
    for edge in ctx.referrers(group, kinds=("Ref", "GetAtt", "Sub")):
        source = ctx.template.resources.get(edge.source_id)
        if source is None or source.type in GROUP_RULES:
            continue
        if source.type in FUNCTION_TYPES and edge.under("Properties", "Environment"):
            for task in ctx.targets_at(source, "Properties", "Environment",
                                       types=(TASK_DEFINITION,)):
                users[task.logical_id] = task
            continue
        users[source.logical_id] = source
    return list(users.values())


def guards_hosts_or_interfaces(ctx: Context, group: Resource) -> bool:
    """The group is attached only to hosts, container services, VPC endpoints and managed
    interfaces: what its egress may reach follows the network's design. Functions, Glue
    connections and other serverless code are not among them: their group is the one place
    their data path is written down."""
    attached = group_users(ctx, group)
    allowed = HOST_TYPES | CONTAINER_HOST_TYPES | MANAGED_INTERFACE_TYPES | {VPC_ENDPOINT}
    return bool(attached) and all(r.type in allowed for r in attached)


def _vpc_has_exit(ctx: Context, vpc: Resource) -> bool:
    if ctx.referring_resources(vpc, types=VPC_EXITS):
        return True
    subnets = ctx.referring_resources(vpc, types=("AWS::EC2::Subnet",))
    if any(ctx.referring_resources(s, types=("AWS::EC2::NatGateway",)) for s in subnets):
        return True
    tables = ctx.referring_resources(vpc, types=(ROUTE_TABLE,))
    return any(ctx.referring_resources(t, types=("AWS::EC2::Route",)) for t in tables)


def hosts_needing_internet(ctx: Context, group: Resource) -> bool:
    """The group is attached to general-purpose or container hosts (HOST_TYPES,
    CONTAINER_HOST_TYPES), besides managed interfaces, and no interface VPC endpoint serves
    them: none is declared in the group's VPC (any VPC when the group names none), or every
    host sits in a public subnet, whose traffic leaves through the internet gateway whatever
    endpoints other subnets use. Such hosts reach registries, package repositories and AWS
    APIs through the internet, which is what their egress is for."""
    attached = group_users(ctx, group)
    hosts = [r for r in attached if r.type in HOST_TYPES or r.type in CONTAINER_HOST_TYPES]
    if not hosts or any(r.type not in MANAGED_INTERFACE_TYPES and r not in hosts
                        for r in attached):
        return False
    return not _interface_endpoints_in_vpc(ctx, group) or all(
        _in_public_subnet(ctx, host) for host in hosts)


def _interface_endpoints_in_vpc(ctx: Context, group: Resource) -> bool:
    vpc = group.properties.get("VpcId")
    return any(resolve(e.properties.get("VpcEndpointType", "Gateway"), ctx.template)
               == "Interface" and (vpc is None or e.properties.get("VpcId") == vpc)
               for e in ctx.template.of_type(VPC_ENDPOINT))


def _in_public_subnet(ctx: Context, host: Resource) -> bool:
    """An instance whose subnet (declared in the stack) routes to an internet gateway."""
    subnets = ctx.targets_at(host, "Properties", "SubnetId", types=("AWS::EC2::Subnet",))
    return bool(subnets) and all(_routes_to_internet_gateway(ctx, s) for s in subnets)


def _routes_to_internet_gateway(ctx: Context, subnet: Resource) -> bool:
    for association in ctx.referring_resources(
            subnet, types=("AWS::EC2::SubnetRouteTableAssociation",)):
        for table in ctx.targets_at(association, "Properties", "RouteTableId",
                                    types=(ROUTE_TABLE,)):
            for route in ctx.referring_resources(table, types=("AWS::EC2::Route",)):
                if ctx.targets_at(route, "Properties", "GatewayId",
                                  types=("AWS::EC2::InternetGateway",)):
                    return True
    return False


def private_entry(ctx: Context, group: Resource) -> bool:
    """The group guards only load balancers with `Scheme: internal`: they have private
    addresses only, so no connection from the internet reaches them, whatever the VPC (one
    the stack declares or a parameter)."""
    attached = group_attachments(ctx, group)
    return bool(attached) and all(
        r.type in BALANCERS and resolve(r.properties.get("Scheme", "internet-facing"),
                                        ctx.template) == "internal" for r in attached)

# Properties naming the subnets a resource's interfaces are placed in.
SUBNET_KEYS = frozenset({"SubnetId", "SubnetIds", "Subnets", "VPCZoneIdentifier"})


def in_subnets_without_exit(ctx: Context, group: Resource) -> bool:
    """Everything the group guards names its subnets, each one the stack declares and
    associates only with route tables whose routes all lead to private address ranges (no
    0.0.0.0/0 to an internet or NAT gateway, no route propagated from a VPN gateway): its
    egress reaches the VPC and its endpoints, even when another route table of the same VPC
    is public. A subnet the stack does not declare or associate is not known to be private."""
    users = group_users(ctx, group)
    return bool(users) and all(
        (subnets := _subnets_of(ctx, user)) and all(_routes_stay_private(ctx, s) for s in subnets)
        for user in users)


def _subnets_of(ctx: Context, resource: Resource) -> list[Resource] | None:
    """The declared subnets a resource names, or None when it names none or one the stack
    does not declare (a parameter, a literal id, an import)."""
    found: list[Resource] = []

    def walk(value: Any, under_subnet_key: bool) -> bool:
        if isinstance(value, dict) and not under_subnet_key:
            return all(walk(v, k in SUBNET_KEYS) for k, v in value.items())
        if isinstance(value, list):
            return all(walk(v, under_subnet_key) for v in value)
        if not under_subnet_key:
            return True
        target = ctx.ref_target(value)
        subnet = ctx.template.resources.get(target) if target else None
        if subnet is None or subnet.type != "AWS::EC2::Subnet":
            return False
        found.append(subnet)
        return True

    return found if walk(resource.properties, False) and found else None


def _routes_stay_private(ctx: Context, subnet: Resource) -> bool:
    associations = ctx.referring_resources(
        subnet, types=("AWS::EC2::SubnetRouteTableAssociation",), under=("Properties", "SubnetId"))
    if not associations:
        return False  # the VPC's main route table, which the stack cannot see
    for association in associations:
        target = ctx.ref_target(association.properties.get("RouteTableId"))
        table = ctx.template.resources.get(target) if target else None
        if table is None or table.type != ROUTE_TABLE or ctx.referring_resources(
                table, types=("AWS::EC2::VPNGatewayRoutePropagation",)):
            return False
        routes = ctx.referring_resources(table, types=("AWS::EC2::Route",),
                                         under=("Properties", "RouteTableId"))
        if not all(_private_destination(ctx, r) for r in routes):
            return False
    return True


def _private_destination(ctx: Context, route: Resource) -> bool:
    """The route leads only to private addresses (another VPC, an on-premises range)."""
    properties = route.properties
    if "DestinationPrefixListId" in properties or "DestinationIpv6CidrBlock" in properties:
        return False
    destination = resolve(properties.get("DestinationCidrBlock"), ctx.template)
    import ipaddress  # only templates with routes need it: kept off a one-file run's start-up

    try:
        return isinstance(destination, str) and ipaddress.ip_network(
            destination.strip(), strict=False).is_private
    except ValueError:
        return False


# A VPC or subnet CIDR block is between /16 and /28: it never spans the internet.
_NETWORK_RANGE_NAME = re.compile(r"(?i).*(?:vpc|subnet).*(?:cidr|range|block).*")
_ANYWHERE = ("0.0.0.0/0", "::/0")


def excludes_anywhere(ctx: Context, parameter_name: str) -> bool:
    """A CIDR parameter cannot be the whole internet: its name says it holds a VPC's or a
    subnet's block (`PeerVPCCIDR`, `PrivateSubnetCidr`), or its `AllowedValues` /
    `AllowedPattern` reject `0.0.0.0/0` and `::/0`."""
    parameter = ctx.template.parameters.get(parameter_name)
    if parameter is None:
        return False
    if _NETWORK_RANGE_NAME.fullmatch(parameter_name):
        return True
    if parameter.allowed_values:
        return not any(str(v).strip() in _ANYWHERE for v in parameter.allowed_values)
    pattern = parameter.raw.get("AllowedPattern")
    if not isinstance(pattern, str):
        return False
    try:
        return not any(re.fullmatch(pattern, cidr) for cidr in _ANYWHERE)
    except re.error:  # a Java-only construct: nothing can be told from it
        return False


# -------------------------------------------------------------- names known outside the stack

# Pseudo parameters whoever uses the stack knows: its name, account, region and partition.
_KNOWN_PSEUDO = frozenset({"AWS::StackName", "AWS::Region", "AWS::AccountId",
                           "AWS::Partition", "AWS::URLSuffix"})
_KNOWN_FUNCTIONS = frozenset({"Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap",
                              "Fn::If", "Fn::GetAZs", "Fn::Base64"})


def _sub_parts(argument: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(argument, str):
        return argument, {}
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str) \
            and isinstance(argument[1], dict):
        return argument[0], argument[1]
    return None


def _whole_parameter(value: Any, template: Template) -> str | None:
    """The parameter that is the whole of `value` (`!Ref Name`, `!Sub "${Name}"`)."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value:
        name = value["Ref"]
        return name if isinstance(name, str) and name in template.parameters else None
    parts = _sub_parts(value.get("Fn::Sub"))
    if parts is None:
        return None
    variables = list(sub_variables(parts[0]))
    if len(variables) == 1 and parts[0].strip() == "${" + variables[0] + "}" \
            and variables[0] in template.parameters and variables[0] not in parts[1]:
        return variables[0]
    return None


def _published_parameters(template: Template) -> frozenset[str]:
    """Parameters that an output hands on whole (`Value: !Ref AppName`)."""
    found = (_whole_parameter(o.value, template) for o in template.outputs.values())
    return frozenset(name for name in found if name is not None)


def _derivable(value: Any, template: Template, published: frozenset[str]) -> bool:
    """Every part of `value` is text, a pseudo parameter users of the stack know, or a
    parameter its outputs publish: nothing CloudFormation generates (`Ref`/`GetAtt` of a
    resource, `AWS::StackId`), another stack holds, or only the deployer remembers."""
    if isinstance(value, list):
        return all(_derivable(v, template, published) for v in value)
    if not isinstance(value, dict):
        return True
    if len(value) != 1:
        return False
    key, argument = next(iter(value.items()))
    if key == "Ref":
        return isinstance(argument, str) and (argument in published
                                              or argument in _KNOWN_PSEUDO)
    if key == "Fn::Sub":
        parts = _sub_parts(argument)
        return parts is not None and all(
            _derivable(parts[1][v], template, published) if v in parts[1]
            else v in published or v in _KNOWN_PSEUDO for v in sub_variables(parts[0]))
    if key == "Fn::If" and isinstance(argument, list):
        return _derivable(argument[1:], template, published)
    return key in _KNOWN_FUNCTIONS and _derivable(argument, template, published)


def name_known_outside(ctx: Context, resource: Resource, name_property: str) -> bool:
    """Whoever uses the stack knows the resource's physical name without looking it up:
    it is written in the template, is a parameter as a whole (the deployer chose it), or is
    built only from the stack's name, account, region and parameters the outputs publish.
    A KMS key counts as named by an alias whose name is so known."""
    template = ctx.template
    published = _published_parameters(template)
    if resource.type == "AWS::KMS::Key":
        return any(_known_name(a.properties.get("AliasName"), template, published)
                   for a in ctx.referring_resources(resource, types=("AWS::KMS::Alias",),
                                                    under=("Properties", "TargetKeyId")))
    return _known_name(resource.properties.get(name_property), template, published)


def _known_name(value: Any, template: Template, published: frozenset[str]) -> bool:
    if value is None or value is NO_VALUE:
        return False
    return _whole_parameter(value, template) is not None or _derivable(
        value, template, published)


# ------------------------------------------------------------------ schedules


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)", re.I)
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_EVERY_N = re.compile(r"(?:\*|0)/(\d+)")


def evaluates_config_rule(ctx: Context, invoker: Invoker) -> bool:
    """The invoker is an AWS Config rule (or a permission for Config): it asks the function
    for one compliance evaluation, which Config shows as missing when lost and re-runs on
    the next change or periodic evaluation (or on demand): nothing is lost for good."""
    source = ctx.template.resources.get(invoker.source)
    if source is None:
        return False
    if source.type == "AWS::Config::ConfigRule":
        return True
    return source.type == PERMISSION and _service(
        resolve(source.properties.get("Principal"), ctx.template),
        source.properties.get("Principal")) == "config"


def schedule_minutes(ctx: Context, invoker: Invoker) -> float | None:
    """How often a schedule invoker fires, in minutes, when its expression says so
    (`rate(10 minutes)`; a cron running every N minutes of every hour, `cron(*/10 * ...)`,
    or every minute), for an EventBridge rule or schedule, or a permission whose `SourceArn`
    names such a rule; None for anything else (a nightly cron, an event pattern)."""
    source = ctx.template.resources.get(invoker.source)
    if source is not None and source.type == PERMISSION:  # the rule its SourceArn names
        rules = ctx.targets_at(source, "Properties", "SourceArn", types=("AWS::Events::Rule",))
        source = rules[0] if len(rules) == 1 else None
    if source is None or source.type not in ("AWS::Events::Rule", "AWS::Scheduler::Schedule") \
            or "EventPattern" in source.properties:
        return None
    expression = resolve(source.properties.get("ScheduleExpression"), ctx.template)
    if not isinstance(expression, str):
        return None
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        unit = rate.group(2).lower().rstrip("s")
        return int(rate.group(1)) * _UNIT_MINUTES[unit]
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) >= 2 and fields[1] == "*":
            if fields[0] == "*":
                return 1
            every = _EVERY_N.fullmatch(fields[0])
            if every and int(every.group(1)) > 0:
                return int(every.group(1))
    return None


# ------------------------------------------------------------ buckets that store nothing


# Resources that refer to a bucket without moving data through it at run time: its policy,
# and objects the template itself writes at deployment (the S3Objects macro's type).
_CONFIGURING_TYPES = frozenset({"AWS::S3::BucketPolicy", "AWS::S3::Object"})
# Bucket properties that make it a source or a copy of data flows.
_FLOW_PROPERTIES = ("NotificationConfiguration", "ReplicationConfiguration",
                    "WebsiteConfiguration")


def stores_nothing(ctx: Context, bucket: Resource) -> bool:
    """A data bucket with no data path: no resource of the stack reads or writes it (only
    its policy or deployment-time objects refer to it), its policy grants nobody, no output
    hands it on, it has no physical name another system could use, and no notification or
    replication moves data out of it. Versions and access logs of such a bucket record
    nothing anyone uses."""
    if "BucketName" in bucket.properties or not ctx.role(bucket).purposes <= {Purpose.DATA}:
        return False
    if any(key in bucket.properties for key in _FLOW_PROPERTIES):
        return False
    template, graph = ctx.template, ctx.graph
    for edge in graph.referrers(bucket.logical_id):
        source = template.resources[edge.source_id]
        if edge.source_id == bucket.logical_id or edge.kind == "DependsOn":
            continue
        if source.type not in _CONFIGURING_TYPES:
            return False
        if source.type == "AWS::S3::BucketPolicy" and any(
                effect_of(s) == "Allow"
                for s in statements(source.properties.get("PolicyDocument"))):
            return False
    return not any(edge.target == ("Resources", bucket.logical_id)
                   for edge in graph.output_edges())


# ------------------------------------------------------------------ tables of passing records

# What a table keeps, read from its logical id, `TableName` and key attribute names (the only
# place a template says it): long stems match inside words (`connectionid`), short words
# only as words of their own (`job-runs`, `TaskState`, not `Statement`).
_TRANSIENT_STEMS = ("connection", "session", "lineage", "checkpoint", "dedup", "idempoten",
                    "token", "execution", "callback", "cache")
_TRANSIENT_WORDS = frozenset({"run", "runs", "state", "states", "event", "events", "lock",
                              "locks", "lease", "leases", "ttl", "timestamp"})
# Records that lose their meaning when their connection, session or run ends.
_EPHEMERAL_STEMS = ("connection", "session", "token", "execution", "callback", "cache",
                    "dedup", "idempoten")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _table_texts(template: Template, table: Resource, *, keys: tuple[str, ...]) -> list[str]:
    """The table's logical id, rendered `TableName` and the names of its `keys` attributes."""
    props = table.properties
    texts = [table.logical_id]
    if "TableName" in props:
        texts.append(render(props["TableName"], template))
    schema = props.get("KeySchema")
    for item in schema if isinstance(schema, list) else []:
        if isinstance(item, dict) and item.get("KeyType") in keys and isinstance(
                item.get("AttributeName"), str):
            texts.append(item["AttributeName"])
    return texts


def _mentions(texts: list[str], stems: tuple[str, ...], words: frozenset[str]) -> bool:
    for text in texts:
        lowered = text.lower()
        if any(stem in lowered for stem in stems) or any(
                w.lower() in words for w in _WORD.findall(text)):
            return True
    return False


def holds_passing_records(ctx: Context, table: Resource) -> bool:
    """The table keeps records of something that passes (connections, sessions, runs and
    executions, workflow state, lineage, checkpoints, de-duplication keys, locks, cache
    entries, events, readings keyed by timestamp): they pile up unless they expire. Entity
    and reference tables (users, orders, one item per device) keep items as long as what
    they describe exists."""
    return _mentions(_table_texts(ctx.template, table, keys=("HASH", "RANGE")),
                     _TRANSIENT_STEMS, _TRANSIENT_WORDS)


def is_ephemeral_table(ctx: Context, table: Resource) -> bool:
    """A table that already expires its items (time to live enabled) and whose items are
    keyed by a connection, session, token, execution or callback: a restored copy would hold
    only stale correlation state, so point-in-time recovery protects nothing."""
    spec = resolve(table.properties.get("TimeToLiveSpecification"), ctx.template)
    enabled = resolve(spec.get("Enabled"), ctx.template) if isinstance(spec, dict) else None
    if enabled is not True and str(enabled).lower() != "true":
        return False
    return _mentions(_table_texts(ctx.template, table, keys=("HASH",)), _EPHEMERAL_STEMS,
                     frozenset())


# --------------------------------------------------------------- buckets a macro demonstrates


def holds_macro_output(value: Any, template: Template) -> bool:
    """Some part of `value` is a macro's output (`is_macro_output`): the text does not show
    what is deployed there."""
    if is_macro_output(value, template):
        return True
    if isinstance(value, dict):
        return any(holds_macro_output(v, template) for v in value.values())
    if isinstance(value, list):
        return any(holds_macro_output(v, template) for v in value)
    return False


def shaped_by_macro(template: Template) -> bool:
    """The template declares a macro of its own (a `Transform` AWS does not provide): what
    is deployed is that macro's output, not this text."""
    return any(not name.startswith("AWS::") for name in template.transform)


def is_macro_placeholder(ctx: Context, bucket: Resource) -> bool:
    """A bucket that exists to show what a macro does: it has no data path (`stores_nothing`)
    and the template is shaped by a macro of its own, or the bucket's own properties are a
    macro's output (`Fn::Transform`, a `#!PyPlate` script). It holds nothing to archive,
    tier, clean up or keep."""
    if not stores_nothing(ctx, bucket):
        return False
    return shaped_by_macro(ctx.template) or holds_macro_output(bucket.properties, ctx.template)


# ------------------------------------------------------------ buckets only builds use

# Service principals of the roles that move build artifacts.
BUILD_SERVICES = frozenset({"codebuild.amazonaws.com", "codepipeline.amazonaws.com"})
_IAM_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def _trusts_only_builds(role: Resource, template: Template) -> bool:
    principals = [p for s in statements(role.properties.get("AssumeRolePolicyDocument"))
                  if effect_of(s) == "Allow" for p in principals_of(s, template)]
    return bool(principals) and all(p.kind == "Service" and p.text in BUILD_SERVICES
                                    for p in principals)


def used_only_by_builds(ctx: Context, bucket: Resource) -> bool:
    """Every resource of the stack that reaches the bucket is a role trusted only by
    CodeBuild or CodePipeline (directly, or through a policy attached to such roles): the
    bucket is a build-artifact store whose pipeline lives in another stack (it imports the
    bucket). A bucket with no such role, or used by anything else, is not."""
    return _used_only_by_builds(ctx.template, ctx.graph, bucket)


def _used_only_by_builds(template: Template, graph: ResourceGraph, bucket: Resource) -> bool:
    found = False
    for edge in graph.referrers(bucket.logical_id):
        if edge.source_id == bucket.logical_id or edge.kind == "DependsOn":
            continue
        source = template.resources[edge.source_id]
        if source.type == "AWS::S3::BucketPolicy":
            continue
        if source.type == "AWS::IAM::Role":
            roles = [source]
        elif source.type in _IAM_POLICIES:
            roles = graph.targets_at(source, "Properties", "Roles", types=("AWS::IAM::Role",))
        else:
            return False
        if not roles or not all(_trusts_only_builds(r, template) for r in roles):
            return False
        found = True
    return found


# ------------------------------------------------------- buckets mounted as file systems

FILE_SYSTEM_EDGES = (("AWS::S3Files::FileSystem", ("Properties", "Bucket")),)


def backs_file_system(ctx: Context, bucket: Resource) -> bool:
    """An S3 Files file system of the stack is built on the bucket: its objects are read
    through the mount, so they must stay in a tier that reads without a restore."""
    return any(ctx.referrers(bucket, types=(t,), under=under) for t, under in FILE_SYSTEM_EDGES)


# ------------------------------------------------- staging buckets of ingestion pipelines

OSIS_PIPELINE = "AWS::OSIS::Pipeline"
# Keys of an OpenSearch Ingestion pipeline body under which a bucket holds passing files only:
# a DynamoDB table's export for the initial load, and the records a sink failed to write.
_STAGING_KEYS = (("export", "s3_bucket"), ("dlq", "s3", "bucket"))
_BODY_LIMIT = 100_000
# Resources that name a bucket to grant access to it, not to use it.
_GRANTS = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
           "AWS::S3::BucketPolicy")


def _body_uses(text: str) -> dict[str, bool]:
    """`${Name}` variables of a pipeline body, each with whether every use is a staging key
    (empty when the body is not YAML or JSON)."""
    import yaml  # only templates with an ingestion pipeline need it

    if len(text) > _BODY_LIMIT:
        return {}
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    uses: dict[str, bool] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(body, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                continue  # YAML aliases share nodes
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else ((None, v) for v in node)
            stack.extend((v, (*path, str(k)) if k is not None else path) for k, v in items)
        elif isinstance(node, str):
            staged = any(path[-len(keys):] == keys for keys in _STAGING_KEYS)
            for name in sub_variables(node):
                uses[name] = uses.get(name, True) and staged
    return uses


def _stages_only(template: Template, graph: ResourceGraph, bucket: Resource) -> bool:
    """Every use of the bucket in the stack (IAM grants, bucket policies and outputs aside) is
    an OpenSearch Ingestion pipeline body naming it as a table-export or dead-letter location:
    what it holds is derived from the table, and useless once the pipeline is gone."""
    staged = False
    for edge in graph.referrers(bucket.logical_id, kinds=("Ref", "GetAtt", "Sub")):
        source = template.resources[edge.source_id]
        if source.type in _GRANTS:
            continue
        body = source.properties.get("PipelineConfigurationBody")
        sub = body.get("Fn::Sub") if isinstance(body, dict) else None
        if source.type != OSIS_PIPELINE or not isinstance(sub, str) \
                or not edge.under("Properties", "PipelineConfigurationBody"):
            return False
        if not _body_uses(sub).get(bucket.logical_id, False):
            return False
        staged = True
    return staged


# --------------------------------------------------------------------- volumes with no data

_ATTACHING_TYPES = ("AWS::EC2::VolumeAttachment", "AWS::EC2::Instance",
                    "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration")


def is_detached_empty_volume(ctx: Context, volume: Resource) -> bool:
    """An EBS volume created empty (no `SnapshotId`) that nothing in the stack attaches and
    no output hands on: no instance can have written to it, so deleting it loses nothing (a
    Config-rule or backup demo target)."""
    if volume.type != "AWS::EC2::Volume" or "SnapshotId" in volume.properties:
        return False
    if ctx.referring_resources(volume, types=_ATTACHING_TYPES):
        return False
    return not any(edge.target == ("Resources", volume.logical_id)
                   for edge in ctx.graph.output_edges())


# ------------------------------------------------------------------ time-series retention


def timestream_keeps_days(ctx: Context, table: Resource) -> int | None:
    """How many days a Timestream table keeps a record: the longer of its memory-store hours
    (rounded up to days) and its magnetic-store days; None when either is unreadable or
    left to the service default (the magnetic default is 73,000 days)."""
    spec = resolve(table.properties.get("RetentionProperties"), ctx.template)
    if not isinstance(spec, dict):
        return None
    hours = as_int(resolve(spec.get("MemoryStoreRetentionPeriodInHours"), ctx.template))
    days = as_int(resolve(spec.get("MagneticStoreRetentionPeriodInDays"), ctx.template))
    if not isinstance(hours, int) or not isinstance(days, int):
        return None
    return max(-(-hours // 24), days)


# ------------------------------------------------ what a table's own name says it keeps

# Words of a table's name that say it is the store of results or data (`processed-data`,
# `JobResults`): its items are what the pipeline produces, whatever its key is called.
_RESULT_WORDS = frozenset({"data", "result", "results", "processed", "output", "outputs",
                           "archive", "report", "reports"})
# Correlation state that has no meaning once its connection ends. Not sessions: a session
# table may keep a conversation's history, which is data.
_CONNECTION_STEMS = ("connection",)


def _name_texts(template: Template, table: Resource) -> list[str]:
    return _table_texts(template, table, keys=())


def named_as_results(ctx: Context, table: Resource) -> bool:
    """The table's logical id or `TableName` calls it a store of results or data, and nothing
    passing (`ProcessedDataTable`, `${Env}-processed-data`): its name outweighs a key
    attribute called `execution_id`, and expiring its items would delete results."""
    texts = _name_texts(ctx.template, table)
    if _mentions(texts, _TRANSIENT_STEMS, _TRANSIENT_WORDS):
        return False
    return any(w.lower() in _RESULT_WORDS for text in texts for w in _WORD.findall(text))


def is_connection_table(ctx: Context, table: Resource) -> bool:
    """Items keyed, or a table named, by a connection (a websocket connection-id table) and
    not named as a store of results: a restored copy would hold only stale ids, with or
    without a time to live (whose absence is a finding of its own)."""
    texts = _table_texts(ctx.template, table, keys=("HASH",))
    return not named_as_results(ctx, table) and _mentions(texts, _CONNECTION_STEMS, frozenset())


# --------------------------------------------------- resources nothing outside the stack uses

_HUMAN_PROTOCOLS = frozenset({"email", "email-json", "sms"})
_TOPIC_PLUMBING = frozenset({"AWS::SNS::Subscription", "AWS::SNS::TopicPolicy"})
_KEY_PLUMBING = frozenset({"AWS::KMS::Alias", "AWS::IAM::Role", "AWS::IAM::Policy",
                           "AWS::IAM::ManagedPolicy"})


def _users(ctx: Context, resource: Resource, plumbing: frozenset[str]) -> list[Resource]:
    """Resources of the stack that use `resource` (refer to it other than by `DependsOn`),
    leaving out the `plumbing` types that only configure or grant it."""
    return [r for r in ctx.graph.referring_resources(resource.logical_id,
                                                     kinds=("Ref", "GetAtt", "Sub"))
            if r.logical_id != resource.logical_id and r.type not in plumbing]


def _admits_other_accounts(ctx: Context, documents: Iterable[Any]) -> bool:
    """Some Allow statement of the policy `documents` names a principal that is not
    provably of this account (`*`, another account, one known only at deployment), or a
    document cannot be read."""
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            return True
        for statement in statements(document):
            if effect_of(statement) == "Allow" and any(
                    p.is_other_account() for p in principals_of(statement, ctx.template)):
                return True
    return False


def _subscription_protocols(ctx: Context, topic: Resource) -> list[Any]:
    """The protocols of the subscriptions the stack declares on `topic` (inline and
    `AWS::SNS::Subscription`), resolved with parameter defaults."""
    inline = topic.properties.get("Subscription")
    found = [item.get("Protocol") for item in inline if isinstance(item, dict)] \
        if isinstance(inline, list) else ([None] if inline is not None else [])
    for subscription in ctx.referring_resources(topic, types=("AWS::SNS::Subscription",),
                                                under=("Properties", "TopicArn")):
        found.append(subscription.properties.get("Protocol"))
    return [resolve(p, ctx.template) for p in found]


def notifies_people_only(ctx: Context, topic: Resource) -> bool:
    """A notification channel closed on the stack: resources of the stack publish to the
    topic (an Auto Scaling group, an alarm, a function), every subscription is declared in
    the stack and delivers to people (email, SMS), and no topic policy admits another
    account. Nothing outside the stack publishes to it or subscribes to it, so nobody needs
    its ARN. A topic that delivers to queues or functions is an event feed that more
    consumers may tap; it is not such a channel."""
    protocols = _subscription_protocols(ctx, topic)
    if not protocols or not all(isinstance(p, str) and p.lower() in _HUMAN_PROTOCOLS
                                for p in protocols):
        return False
    if not _users(ctx, topic, _TOPIC_PLUMBING):
        return False
    policies = ctx.referring_resources(topic, types=("AWS::SNS::TopicPolicy",),
                                       under=("Properties", "Topics"))
    return not _admits_other_accounts(ctx, (p.properties.get("PolicyDocument")
                                            for p in policies))


def key_used_only_inside(ctx: Context, key: Resource) -> bool:
    """A KMS key that resources of the stack encrypt with (a log group, a bucket, a table:
    something other than its aliases and the IAM policies granting it refers to it) and
    whose key policy admits no other account: its users are in the stack, and whoever
    administers it finds it on the resource it encrypts."""
    if key.type != "AWS::KMS::Key" or not _users(ctx, key, _KEY_PLUMBING):
        return False
    return not _admits_other_accounts(ctx, [key.properties.get("KeyPolicy")])


_CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
# (type, property path) where a bucket is read once, when CloudFormation deploys code.
_CODE_LOCATIONS = (
    ("AWS::Lambda::LayerVersion", ("Properties", "Content")),
    (FUNCTION, ("Properties", "Code")),
    ("AWS::Serverless::Function", ("Properties", "CodeUri")),
    ("AWS::Serverless::LayerVersion", ("Properties", "ContentUri")),
)
_FUNCTIONS = (FUNCTION, "AWS::Serverless::Function")


def _is_custom_resource(resource: Resource) -> bool:
    return resource.type == _CUSTOM_RESOURCE or resource.type.startswith("Custom::")


def _serves_deployment_only(ctx: Context, function: Resource) -> bool:
    """Only custom resources (ServiceToken) invoke the function, and it has no SAM events."""
    if function.type not in _FUNCTIONS or "Events" in function.properties:
        return False
    invokers = roles_of(ctx.template, ctx.graph)._invokers(function)
    return bool(invokers) and all(i.deploy_time for i in invokers)


def _deploy_time_user(ctx: Context, edge: Edge) -> bool:
    source = ctx.template.resources[edge.source_id]
    if _is_custom_resource(source) or _serves_deployment_only(ctx, source):
        return True
    if source.type == "AWS::IAM::Role":
        users = ctx.referring_resources(source, types=_FUNCTIONS)
        return bool(users) and all(_serves_deployment_only(ctx, f) for f in users)
    return any(source.type == t and edge.under(*under) for t, under in _CODE_LOCATIONS)


def used_only_at_deploy(ctx: Context, bucket: Resource) -> bool:
    """A data bucket (no name, no data flows, no output) that only deployment touches:
    custom resources and the functions that serve only them write into it, layer and
    function code locations read it (a custom resource builds a layer zip there). No user,
    consumer or other stack ever addresses it."""
    if "BucketName" in bucket.properties or not ctx.role(bucket).purposes <= {Purpose.DATA}:
        return False
    if any(key in bucket.properties for key in _FLOW_PROPERTIES):
        return False
    if any(edge.target == ("Resources", bucket.logical_id)
           for edge in ctx.graph.output_edges()):
        return False
    found = False
    for edge in ctx.referrers(bucket, kinds=("Ref", "GetAtt", "Sub")):
        source = ctx.template.resources[edge.source_id]
        if source.logical_id == bucket.logical_id or source.type in _CONFIGURING_TYPES:
            if source.type == "AWS::S3::BucketPolicy" and any(
                    effect_of(s) == "Allow"
                    for s in statements(source.properties.get("PolicyDocument"))):
                return False
            continue
        if not _deploy_time_user(ctx, edge):
            return False
        found = True
    return found


# ------------------------------------------------- buckets that receive write-once output

# (type, property path) below which a reference to a bucket makes it the place where a
# service writes command output or logs, each object once under a key of its own.
OUTPUT_LOCATION_EDGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS::SSM::Association", ("Properties", "OutputLocation")),
    ("AWS::SSM::MaintenanceWindowTask", ("Properties", "TaskInvocationParameters",
                                         "MaintenanceWindowRunCommandParameters")),
    ("AWS::EMR::Cluster", ("Properties", "LogUri")),
)
# Firehose destinations whose own data goes to the bucket (not a backup of it).
_FIREHOSE_MAIN = frozenset({"S3DestinationConfiguration", "ExtendedS3DestinationConfiguration"})


def receives_command_output(ctx: Context, bucket: Resource) -> bool:
    """The bucket is the output location of an SSM association or maintenance-window Run
    Command task, or an EMR cluster's log URI: each run writes its output once under a key
    of its own (the command id)."""
    return any(ctx.referrers(bucket, types=(t,), under=under)
               for t, under in OUTPUT_LOCATION_EDGES)


def receives_firehose_backup(ctx: Context, bucket: Resource) -> bool:
    """A Firehose delivery stream of the stack backs up into the bucket (the `S3Configuration`
    of an HTTP-endpoint, OpenSearch, Redshift, Splunk... destination: failed records, or all
    of them; an `S3BackupConfiguration`) and none delivers its own data there: Firehose
    writes each batch once under a timestamped key and never overwrites one."""
    found = False
    for edge in ctx.referrers(bucket, types=(FIREHOSE,), under=("Properties",)):
        destination = edge.path[3] if len(edge.path) > 3 else None
        part = edge.path[4] if len(edge.path) > 4 else None
        if part == "S3BackupConfiguration" or (
                part == "S3Configuration" and destination not in _FIREHOSE_MAIN):
            found = True
        elif destination in _FIREHOSE_MAIN:
            return False
    return found


_LIFECYCLE_SCOPES = ("Prefix", "TagFilters", "ObjectSizeGreaterThan", "ObjectSizeLessThan")


def expires_everything_within(ctx: Context, bucket: Resource) -> int | None:
    """The fewest days after which an enabled lifecycle rule with no scope (prefix, tags,
    sizes) expires every current object, read with parameter defaults; None when no rule
    does, or its days cannot be read. Such a bucket holds transient data."""
    config = resolve(bucket.properties.get("LifecycleConfiguration"), ctx.template)
    rules = config.get("Rules") if isinstance(config, dict) else None
    found: list[int] = []
    for item in rules if isinstance(rules, list) else []:
        if not isinstance(item, dict) or resolve(item.get("Status"), ctx.template) != "Enabled":
            continue
        scope = item.get("Filter")
        scope = scope if isinstance(scope, dict) else {}
        if any(item.get(k) or scope.get(k) for k in _LIFECYCLE_SCOPES) or "And" in scope:
            continue
        days = as_int(resolve(item.get("ExpirationInDays"), ctx.template))
        if isinstance(days, int) and not isinstance(days, bool) and days > 0:
            found.append(days)
    return min(found) if found else None
