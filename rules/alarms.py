"""CloudWatch alarms: coverage of pipeline components, notification, environment dimension.

Coverage ("every X has an alarm watching it") is answered through the resource graph: an alarm
metric watches a resource when one of the metric's dimension values refers to the resource
(`Ref`, `Fn::GetAtt`, `Fn::Sub`) or equals the resource's physical name (`FunctionName`, `Name`,
`QueueName`, `TableName`, literal or built from parameter defaults). Single-metric alarms and
metric-math alarms (`Metrics` entries with a `MetricStat`) both count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from cfnaudit.rule import (
    Context,
    Purpose,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Variant,
    Violation,
    exists_in,
    in_scenario,
    is_dead_letter_queue,
    referenced_names,
    rule,
    sub_variables,
)

Path = tuple[str | int, ...]

ALARM = "AWS::CloudWatch::Alarm"
COMPOSITE_ALARM = "AWS::CloudWatch::CompositeAlarm"
TOPIC = "AWS::SNS::Topic"
SCALING_POLICIES = ("AWS::AutoScaling::ScalingPolicy", "AWS::ApplicationAutoScaling::ScalingPolicy")

# The property holding each watched type's physical name (the value of its metric dimension).
NAME_PROPERTY = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Glue::Job": "Name",
}


# ------------------------------------------------------------------------- reading alarms


@dataclass(frozen=True, slots=True)
class WatchedMetric:
    """One metric an alarm evaluates. `dimensions` is the path (below the alarm) of the
    metric's Dimensions list; `names` are the literal keys of its dimension values."""

    alarm: Resource
    namespace: str | None  # None when not a literal
    metric: str | None
    dimensions: Path
    names: frozenset[str]


def name_key(ctx: Context, value: Any, scenario: Scenario = ()) -> str | None:
    """A comparable key for a physical name: its literal value, or for an expression that has
    no literal value, the expression itself (two identical `Fn::Sub`s name the same thing)."""
    if value is None:
        return None
    literal = ctx.literal(value, scenario)
    if literal is not None:
        return literal
    return "expr:" + json.dumps(value, sort_keys=True, default=str)


def _metric(ctx: Context, alarm: Resource, spec: Mapping[str, Any], dimensions: Path,
            scenario: Scenario) -> WatchedMetric:
    raw = spec.get("Dimensions")
    names = set()
    for item in raw if isinstance(raw, list) else ():
        if isinstance(item, dict):
            key = name_key(ctx, item.get("Value"), scenario)
            if key is not None:
                names.add(key)
    return WatchedMetric(alarm, ctx.literal(spec.get("Namespace"), scenario),
                         ctx.literal(spec.get("MetricName"), scenario), dimensions,
                         frozenset(names))


def alarm_metrics(ctx: Context, alarm: Resource, scenario: Scenario = ()) -> list[WatchedMetric]:
    """The metrics of a single-metric or metric-math alarm, as deployed in `scenario`."""
    props = in_scenario(alarm.properties, scenario) if scenario else alarm.properties
    if not isinstance(props, Mapping):
        return []
    found = []
    if "MetricName" in props:
        found.append(_metric(ctx, alarm, props, ("Properties", "Dimensions"), scenario))
    metrics = props.get("Metrics")
    for i, query in enumerate(metrics if isinstance(metrics, list) else ()):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict):
            found.append(_metric(ctx, alarm, metric,
                                 ("Properties", "Metrics", i, "MetricStat", "Metric",
                                  "Dimensions"), scenario))
    return found


class AlarmIndex:
    """Every alarm of the template, indexed by the literal dimension values its metrics carry
    in any scenario. Built once per rule run: lookups per resource go through the graph."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.by_name: dict[str, set[str]] = {}
        for alarm in ctx.resources(ALARM):
            for variant in ctx.variants(alarm):
                for metric in alarm_metrics(ctx, alarm, variant.scenario):
                    for name in metric.names:
                        self.by_name.setdefault(name, set()).add(alarm.logical_id)

    def candidates(self, resource: Resource) -> list[Resource]:
        """Alarms whose dimensions refer to `resource` or carry its physical name in some
        scenario, in template order. Whether they watch it in a given scenario is decided by
        `watching`."""
        ids = {e.source_id for e in self.ctx.referrers(
            resource, types=(ALARM,), kinds=("Ref", "GetAtt", "Sub"))}
        for variant in self.ctx.variants(resource):  # the name may depend on a condition
            key = self.physical_name(resource, variant.scenario)
            if key is not None:
                ids |= self.by_name.get(key, set())
        return [r for r in self.ctx.template.of_type(ALARM) if r.logical_id in ids]

    def physical_name(self, resource: Resource, scenario: Scenario = ()) -> str | None:
        name_property = NAME_PROPERTY.get(resource.type)
        if name_property is None:
            return None
        return name_key(self.ctx, resource.properties.get(name_property), scenario)

    def watching(self, resource: Resource, scenario: Scenario) -> list[WatchedMetric]:
        """Metrics of the alarms that exist in `scenario` whose dimensions there refer to
        `resource` or carry its physical name."""
        name = self.physical_name(resource, scenario)
        found = []
        for alarm in self.candidates(resource):
            if not exists_in(alarm, scenario):
                continue
            props = in_scenario(alarm.properties, scenario)
            for metric in alarm_metrics(self.ctx, alarm, scenario):
                values = _dimension_values(props, metric.dimensions[1:])
                if resource.logical_id in referenced_names(values) or (
                        name is not None and name in metric.names):
                    found.append(metric)
        return found


def _dimension_values(props: Any, path: Path) -> list[Any]:
    node = props
    for key in path:
        if isinstance(node, Mapping) and isinstance(key, str):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return []
    return [d.get("Value") for d in node if isinstance(d, Mapping)] \
        if isinstance(node, list) else []


def _group_text(group: list[str]) -> str:
    names = [f"`{m}`" for m in group]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def metric_groups(ctx: Context) -> list[list[str]]:
    """The `required_metrics` option: each entry one metric, or alternatives joined by `|`."""
    return [[m.strip() for m in str(entry).split("|") if m.strip()]
            for entry in ctx.option("required_metrics")]


def coverage_violations(ctx: Context, index: AlarmIndex, resource: Resource, noun: str,
                        namespace: str) -> Iterator[Violation]:
    """One violation per required metric group that no alarm watches, in every scenario of
    the resource and its candidate alarms (folded: "... when IsProd is false")."""
    def check(scenario: Scenario) -> Iterator[Violation]:
        watched = {m.metric for m in index.watching(resource, scenario)
                   if m.namespace is None or m.namespace == namespace}
        for group in metric_groups(ctx):
            if not watched & set(group):
                yield Violation(f"{noun} `{resource.logical_id}` has no alarm on "
                                f"{_group_text(group)}", resource.path, key="|".join(group))

    yield from ctx.each_scenario(resource, index.candidates(resource), check)


# ---------------------------------------------------------------------------- coverage


@rule(code="MON001", name="lambda-function-alarms", severity=Severity.ERROR,
      category="alarm-coverage", resource_types=("AWS::Lambda::Function",),
      options={"required_metrics": ["Errors", "Throttles"]})
def lambda_function_alarms(ctx: Context) -> Iterator[Violation]:
    """Lambda function has no alarm on its errors or throttles.

    ## What it does
    For every `AWS::Lambda::Function`, looks for a CloudWatch alarm on each metric of
    `required_metrics` (namespace `AWS/Lambda`) whose dimension value refers to the function
    through `Ref`, `Fn::GetAtt` or `Fn::Sub`, or equals its literal `FunctionName`.
    Metric-math alarms count through their `MetricStat` entries. An alarm that exists only
    under a condition covers the function only then (the finding says when). Functions that
    only serve CloudFormation (the `ServiceToken` of custom resources, a macro's function)
    and that nothing triggers at run time are left out: their failures fail the deployment.
    So are functions that run at CloudFront edges or on Greengrass cores (found through the
    graph): their metrics are published in the edge regions or not at all, where an alarm of
    the stack's region cannot see them.

    ## Why is this bad?
    A function that fails or is throttled without an alarm loses data silently: asynchronous
    events go to a dead-letter queue nobody watches, stream batches are retried until they
    expire. Nobody learns of it until a consumer complains.

    ## Example
    ```yaml
    Resources:
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
      ValidatorErrors:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Errors
          Dimensions: [{Name: FunctionName, Value: !Ref Validator}]
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
    ```

    ## Use instead
    ```yaml
    Resources:
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
      ValidatorErrors:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Errors
          Dimensions: [{Name: FunctionName, Value: !Ref Validator}]
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
      ValidatorThrottles:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Throttles
          Dimensions: [{Name: FunctionName, Value: !Ref Validator}]
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
    ```

    ## Options
    - `required_metrics` (list, default `[Errors, Throttles]`): the metrics each function needs
      an alarm on; write alternatives as one entry joined by `|` (`Errors|Invocations`).

    ## Known problems
    A physical name that is known only at deployment (built from `${AWS::Region}` or a
    parameter without default) matches only an alarm dimension written the same way.
    Alarms created outside the stack are not seen.

    ## References
    - [Lambda function metrics](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)
    - [AWS::CloudWatch::Alarm](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html)
    """
    index = AlarmIndex(ctx)
    for function in ctx.resources():
        if not ctx.role(function).has(Purpose.DEPLOYMENT_HELPER, Purpose.EDGE):
            yield from coverage_violations(ctx, index, function, "Function", "AWS/Lambda")


@rule(code="MON002", name="kinesis-stream-alarms", severity=Severity.ERROR,
      category="alarm-coverage", resource_types=("AWS::Kinesis::Stream",),
      options={"required_metrics": [
          "GetRecords.IteratorAgeMilliseconds",
          "IncomingRecords|IncomingBytes|WriteProvisionedThroughputExceeded"]})
def kinesis_stream_alarms(ctx: Context) -> Iterator[Violation]:
    """Kinesis stream has no alarm on consumer lag or ingestion.

    ## What it does
    For every `AWS::Kinesis::Stream`, looks for a CloudWatch alarm (namespace `AWS/Kinesis`)
    on `GetRecords.IteratorAgeMilliseconds` and on one of `IncomingRecords`, `IncomingBytes`
    or `WriteProvisionedThroughputExceeded`, whose dimension value refers to the stream
    (`Ref`, `Fn::GetAtt`, `Fn::Sub`) or equals its literal `Name`. Metric-math alarms count.

    ## Why is this bad?
    Iterator age is the one metric that says consumers are falling behind; once it passes the
    retention period, records are lost. Without an ingestion alarm, a producer outage or
    write throttling goes unnoticed.

    ## Example
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
    ```

    ## Use instead
    ```yaml
    Resources:
      Ticks:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      TicksIteratorAge:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Kinesis
          MetricName: GetRecords.IteratorAgeMilliseconds
          Dimensions: [{Name: StreamName, Value: !Ref Ticks}]
          Statistic: Maximum
          Period: 60
          EvaluationPeriods: 5
          Threshold: 60000
          ComparisonOperator: GreaterThanThreshold
      TicksIngestion:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Metrics:
            - Id: records
              MetricStat:
                Metric:
                  Namespace: AWS/Kinesis
                  MetricName: IncomingRecords
                  Dimensions: [{Name: StreamName, Value: !Ref Ticks}]
                Period: 60
                Stat: Sum
          EvaluationPeriods: 5
          Threshold: 1
          ComparisonOperator: LessThanThreshold
    ```

    ## Options
    - `required_metrics` (list): one entry per required alarm; alternatives joined by `|`.

    ## Known problems
    Alarms created outside the stack are not seen.

    ## References
    - [Kinesis Data Streams metrics](https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html)
    """
    index = AlarmIndex(ctx)
    for stream in ctx.resources():
        yield from coverage_violations(ctx, index, stream, "Stream", "AWS/Kinesis")


@rule(code="MON003", name="dead-letter-queue-alarm", severity=Severity.ERROR,
      category="alarm-coverage", resource_types=("AWS::SQS::Queue",),
      options={"required_metrics": ["ApproximateNumberOfMessagesVisible"]})
def dead_letter_queue_alarm(ctx: Context) -> Iterator[Violation]:
    """Dead-letter queue has no alarm on its depth.

    ## What it does
    Finds the queues that serve as dead-letter targets through the graph: named by another
    queue's `RedrivePolicy`, a function's `DeadLetterConfig`, an on-failure destination of an
    `EventInvokeConfig` or event source mapping, an SNS subscription's `RedrivePolicy` or an
    EventBridge target's `DeadLetterConfig`. Each needs an alarm (namespace `AWS/SQS`) on
    `ApproximateNumberOfMessagesVisible` whose dimension refers to it or carries its
    literal `QueueName`. Metric-math alarms count.

    ## Why is this bad?
    A dead-letter queue holds the messages the pipeline failed to process. Nobody looks at a
    queue without an alarm, and its messages expire after the retention period: the data is
    lost a second time, silently.

    ## Example
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
        Properties:
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt IngestDLQ.Arn
            maxReceiveCount: 5
      IngestDLQ:
        Type: AWS::SQS::Queue
    ```

    ## Use instead
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
        Properties:
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt IngestDLQ.Arn
            maxReceiveCount: 5
      IngestDLQ:
        Type: AWS::SQS::Queue
      IngestDLQDepth:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/SQS
          MetricName: ApproximateNumberOfMessagesVisible
          Dimensions: [{Name: QueueName, Value: !GetAtt IngestDLQ.QueueName}]
          Statistic: Maximum
          Period: 300
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
    ```

    ## Options
    - `required_metrics` (list, default `[ApproximateNumberOfMessagesVisible]`).

    ## Known problems
    A queue used as a dead-letter target only by resources outside the stack is not
    recognised as one.

    ## References
    - [Amazon SQS dead-letter queues](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html)
    - [Available CloudWatch metrics for Amazon SQS](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html)
    """
    index = AlarmIndex(ctx)
    for queue in ctx.resources():
        if is_dead_letter_queue(ctx, queue):
            yield from coverage_violations(ctx, index, queue, "Dead-letter queue", "AWS/SQS")


@rule(code="MON004", name="dynamodb-table-alarms", severity=Severity.ERROR,
      category="alarm-coverage", resource_types=("AWS::DynamoDB::Table",),
      options={"required_metrics": [
          "ReadThrottleEvents|WriteThrottleEvents|ThrottledRequests|SystemErrors"]})
def dynamodb_table_alarms(ctx: Context) -> Iterator[Violation]:
    """DynamoDB table has no alarm on throttling or system errors.

    ## What it does
    For every `AWS::DynamoDB::Table`, looks for a CloudWatch alarm (namespace `AWS/DynamoDB`)
    on one of `ReadThrottleEvents`, `WriteThrottleEvents`, `ThrottledRequests` or
    `SystemErrors` whose dimension refers to the table or equals its literal `TableName`.

    ## Why is this bad?
    Throttled or failed writes to a metadata table (lineage, job runs) break the audit trail
    without failing the pipeline; only an alarm makes them visible.

    ## Example
    ```yaml
    Resources:
      Lineage:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
    ```

    ## Use instead
    ```yaml
    Resources:
      Lineage:
        Type: AWS::DynamoDB::Table
        Properties:
          TableName: lineage-dev
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
      LineageThrottles:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/DynamoDB
          MetricName: WriteThrottleEvents
          Dimensions: [{Name: TableName, Value: lineage-dev}]
          Statistic: Sum
          Period: 300
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
    ```

    ## Options
    - `required_metrics` (list): one entry per required alarm; alternatives joined by `|`.

    ## References
    - [DynamoDB metrics and dimensions](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html)
    """
    index = AlarmIndex(ctx)
    for table in ctx.resources():
        yield from coverage_violations(ctx, index, table, "Table", "AWS/DynamoDB")


# ---------------------------------------------------------------- Glue failure alerting


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _event_pattern(ctx: Context, events_rule: Resource) -> dict[str, Any] | None:
    pattern = events_rule.properties.get("EventPattern")
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            return None
    return pattern if isinstance(pattern, dict) else None


def _strings(ctx: Context, values: Any) -> set[str]:
    return {text for v in _as_list(values) if (text := ctx.literal(v)) is not None}


@dataclass(frozen=True, slots=True)
class GlueAlert:
    events_rule: Resource
    states: frozenset[str] | None  # None: every state
    all_jobs: bool
    job_names: frozenset[str]


def _notifies(ctx: Context, events_rule: Resource) -> bool:
    """Some target's Arn is an SNS topic: one of the stack's, or a literal SNS ARN."""
    for edge in ctx.graph.targets(events_rule.logical_id, under=("Properties", "Targets")):
        if edge.path[5:6] == ("Arn",) and \
                ctx.template.resources[edge.target_id].type == TOPIC:
            return True
    targets = events_rule.properties.get("Targets")
    for target in targets if isinstance(targets, list) else ():
        arn = ctx.skeleton(target.get("Arn")) if isinstance(target, dict) else None
        if arn and ":sns:" in arn:
            return True
    return False


def glue_alerts(ctx: Context) -> list[GlueAlert]:
    """Enabled EventBridge rules on Glue Job State Change events that notify an SNS topic."""
    alerts = []
    for events_rule in ctx.resources("AWS::Events::Rule"):
        pattern = _event_pattern(ctx, events_rule)
        if pattern is None or ctx.literal(events_rule.properties.get("State")) in (
                "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS_DISABLED"):
            continue
        if "aws.glue" not in _strings(ctx, pattern.get("source")):
            continue
        if "detail-type" in pattern and \
                "Glue Job State Change" not in _strings(ctx, pattern["detail-type"]):
            continue
        if not _notifies(ctx, events_rule):
            continue
        detail = pattern.get("detail") if isinstance(pattern.get("detail"), dict) else {}
        states = frozenset(_strings(ctx, detail["state"])) if "state" in detail else None
        alerts.append(GlueAlert(events_rule, states, "jobName" not in detail,
                                frozenset(_strings(ctx, detail.get("jobName")))))
    return alerts


@rule(code="MON005", name="glue-job-failure-alerting", severity=Severity.ERROR,
      category="alarm-coverage", resource_types=("AWS::Glue::Job",),
      options={"required_states": ["FAILED", "TIMEOUT"],
               "failure_metrics": ["glue.driver.aggregate.numFailedTasks"]})
def glue_job_failure_alerting(ctx: Context) -> Iterator[Violation]:
    """Glue job failures and timeouts notify nobody.

    ## What it does
    For every `AWS::Glue::Job`, looks for either
    - an enabled `AWS::Events::Rule` whose `EventPattern` has `source: aws.glue`,
      `detail-type: Glue Job State Change` (or no detail-type), a `detail.state` list that
      includes each of `required_states` (or no state filter), and a `detail.jobName` that
      refers to the job, equals its literal `Name`, or is absent (all jobs); with a target whose
      `Arn` is an SNS topic of the stack or an SNS ARN; or
    - a CloudWatch alarm on one of `failure_metrics` (namespace `Glue`) whose `JobName`
      dimension refers to the job, which covers every state.

    ## Why is this bad?
    Glue reports a failed or timed-out run only in its console. The next run starts from the
    bookmark and nobody notices the missing partition until a report is wrong.

    ## Example
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
    ```

    ## Use instead
    ```yaml
    Resources:
      Etl:
        Type: AWS::Glue::Job
        Properties:
          Role: arn:aws:iam::123456789012:role/glue
          Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
      Alerts:
        Type: AWS::SNS::Topic
      EtlFailed:
        Type: AWS::Events::Rule
        Properties:
          EventPattern:
            source: [aws.glue]
            detail-type: [Glue Job State Change]
            detail:
              jobName: [!Ref Etl]
              state: [FAILED, TIMEOUT]
          Targets:
            - Id: alerts
              Arn: !Ref Alerts
    ```

    ## Options
    - `required_states` (list, default `[FAILED, TIMEOUT]`): job states that must alert.
    - `failure_metrics` (list, default `[glue.driver.aggregate.numFailedTasks]`): Glue metrics
      an alarm may watch instead of the EventBridge rule.

    ## Known problems
    Content filters (`anything-but`, `prefix`) in the state or job name are not interpreted:
    such rules do not count. A rule targeting a Lambda function that notifies does not count.

    ## References
    - [Automating Glue with EventBridge](https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html)
    - [Monitoring Glue with CloudWatch metrics](https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html)
    """
    index = AlarmIndex(ctx)
    alerts = glue_alerts(ctx)
    failure_metrics = set(ctx.option("failure_metrics"))
    for job in ctx.resources():
        referring = {e.source_id for e in ctx.referrers(
            job, types=("AWS::Events::Rule",), under=("Properties", "EventPattern"))}
        name = name_key(ctx, job.properties.get("Name"))
        mine = [a for a in alerts if a.all_jobs or a.events_rule.logical_id in referring
                or (name is not None and name in a.job_names)]
        related = [*index.candidates(job), *(a.events_rule for a in mine)]
        yield from ctx.each_scenario(job, related, partial(
            _glue_alert_gaps, ctx, index, job, mine, failure_metrics))


def _glue_alert_gaps(ctx: Context, index: AlarmIndex, job: Resource, alerts: list[GlueAlert],
                     failure_metrics: set[str], scenario: Scenario) -> Iterator[Violation]:
    if any(m.metric in failure_metrics and m.namespace in (None, "Glue")
           for m in index.watching(job, scenario)):
        return
    for state in ctx.option("required_states"):
        if not any(exists_in(a.events_rule, scenario) for a in alerts
                   if a.states is None or state in a.states):
            yield Violation(f"Glue job `{job.logical_id}` has no alert on {state} runs "
                            "(no EventBridge rule notifying SNS, no alarm on its failure "
                            "metrics)", job.path, key=state)


# ------------------------------------------------------------------------- alarm actions


def _action_kind(ctx: Context, alarm: Resource, action: Any, scenario: Scenario
                 ) -> str | Unresolved:
    """"sns", "scaling" or "other" for one alarm action, or why it cannot be known."""
    target = ctx.ref_target(action)
    if target is not None:
        kind = ctx.template.resources[target].type
        return "sns" if kind == TOPIC else "scaling" if kind in SCALING_POLICIES else "other"
    if isinstance(action, dict) and "Fn::Sub" in action:
        arg = action["Fn::Sub"]
        text = arg[0] if isinstance(arg, list) and arg else arg
        for variable in sub_variables(text) if isinstance(text, str) else ():
            resource = ctx.template.resources.get(variable.split(".")[0])
            if resource is not None and resource.type == TOPIC:
                return "sns"
    text = ctx.skeleton(action, scenario)
    if text is None:
        resolved = ctx.resolve(action, scenario)
        return resolved if isinstance(resolved, Unresolved) else "other"
    if ":sns:" in text:
        return "sns"
    if ":autoscaling:" in text:
        return "scaling"
    if text.startswith("*") or text == "":
        resolved = ctx.resolve(action, scenario)
        return resolved if isinstance(resolved, Unresolved) else "other"
    return "other"


def _actions(ctx: Context, value: Any, scenario: Scenario) -> list[Any] | Unresolved:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    resolved = ctx.resolve(value, scenario)  # a CommaDelimitedList parameter, for instance
    if isinstance(resolved, list):
        return resolved
    if isinstance(resolved, str):
        return [s for s in resolved.split(",") if s]
    return resolved if isinstance(resolved, Unresolved) else [value]


def _check_alarm_actions(ctx: Context, alarm: Resource, variant: Variant
                         ) -> Iterator[Violation]:
    props = variant.properties
    noun = "Composite alarm" if alarm.type == COMPOSITE_ALARM else "Alarm"
    enabled = ctx.resolve(props.get("ActionsEnabled", True), variant.scenario)
    if enabled is False or (isinstance(enabled, str) and enabled.lower() == "false"):
        yield Violation(f"{noun} `{alarm.logical_id}` has its actions disabled",
                        alarm.at("Properties", "ActionsEnabled"))
    elif isinstance(enabled, Unresolved):
        yield Violation(f"{noun} `{alarm.logical_id}` ActionsEnabled cannot be checked because "
                        f"{enabled.reason}", alarm.at("Properties", "ActionsEnabled"))
    actions = _actions(ctx, props.get("AlarmActions"), variant.scenario)
    if isinstance(actions, Unresolved):
        yield Violation(f"{noun} `{alarm.logical_id}` AlarmActions cannot be checked because "
                        f"{actions.reason}", alarm.at("Properties", "AlarmActions"))
        return
    kinds = [_action_kind(ctx, alarm, a, variant.scenario) for a in actions]
    if "sns" in kinds:
        return
    unknown = [k for k in kinds if isinstance(k, Unresolved)]
    if unknown:
        yield Violation(f"{noun} `{alarm.logical_id}` AlarmActions cannot be checked because "
                        f"{unknown[0].reason}", alarm.at("Properties", "AlarmActions"))
    elif kinds and all(k == "scaling" for k in kinds):
        return  # the alarm drives scaling; nobody is meant to be paged by it
    elif not actions:
        yield Violation(f"{noun} `{alarm.logical_id}` has no AlarmActions: it notifies nobody",
                        alarm.path)
    else:
        yield Violation(f"{noun} `{alarm.logical_id}` does not notify an SNS topic",
                        alarm.at("Properties", "AlarmActions"))


@rule(code="MON010", name="alarm-notifies-sns", severity=Severity.ERROR,
      category="alarm-actions", resource_types=(ALARM, COMPOSITE_ALARM))
def alarm_notifies_sns(ctx: Context) -> Iterator[Violation]:
    """Alarm notifies nobody: no SNS topic in its actions, or actions disabled.

    ## What it does
    Checks every `AWS::CloudWatch::Alarm` and `AWS::CloudWatch::CompositeAlarm`:
    `ActionsEnabled` must not be false, and `AlarmActions` must contain an SNS topic, either
    a topic of the stack (`Ref`, `Fn::GetAtt`, `${Topic}` in a `Fn::Sub`) or an ARN containing
    `:sns:` (literal, from a parameter default, or built with `Fn::Sub`/`Fn::Join`). An alarm
    whose only actions are scaling policies is left alone: it drives scaling, not paging.

    ## Why is this bad?
    An alarm without a notification changes colour in the console and nothing else. The
    on-call engineer learns of the incident from the customer.

    ## Example
    ```yaml
    Resources:
      Errors:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Errors
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
    ```

    ## Use instead
    ```yaml
    Resources:
      Alerts:
        Type: AWS::SNS::Topic
      Errors:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/Lambda
          MetricName: Errors
          Statistic: Sum
          Period: 60
          EvaluationPeriods: 1
          Threshold: 1
          ComparisonOperator: GreaterThanOrEqualToThreshold
          AlarmActions: [!Ref Alerts]
    ```

    ## Known problems
    An action imported from another stack (`Fn::ImportValue`) or taken from a parameter without
    default cannot be checked and is reported as such.

    ## References
    - [Using Amazon CloudWatch alarms: alarm actions](https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html)
    """
    for alarm in ctx.resources():
        yield from ctx.each_variant(alarm, lambda v, a=alarm: _check_alarm_actions(ctx, a, v))


# --------------------------------------------------------------------- metric dimensions


def _custom_metric_violations(ctx: Context, alarm: Resource, variant: Variant
                              ) -> Iterator[Violation]:
    wanted = ctx.option("dimension")
    props = variant.properties
    specs: list[tuple[Mapping[str, Any], Path]] = []
    if "MetricName" in props:
        specs.append((props, ("Properties",)))
    metrics = props.get("Metrics")
    for i, query in enumerate(metrics if isinstance(metrics, list) else ()):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict):
            specs.append((metric, ("Properties", "Metrics", i, "MetricStat", "Metric")))
    for spec, where in specs:
        namespace = ctx.resolve(spec.get("Namespace"), variant.scenario)
        if isinstance(namespace, Unresolved):
            yield Violation(f"Alarm `{alarm.logical_id}` namespace cannot be checked because "
                            f"{namespace.reason}", alarm.at(*where, "Namespace"))
            continue
        if not isinstance(namespace, str) or namespace.startswith("AWS/"):
            continue
        dimensions = spec.get("Dimensions")
        names = {ctx.resolve(d.get("Name"), variant.scenario)
                 for d in (dimensions if isinstance(dimensions, list) else ())
                 if isinstance(d, dict)}
        if wanted not in names:
            path = alarm.at(*where, "Dimensions") if dimensions is not None \
                else alarm.at(*where, "Namespace")
            yield Violation(f"Alarm `{alarm.logical_id}` watches custom namespace "
                            f"`{namespace}` without the `{wanted}` dimension", path)


@rule(code="MON020", name="custom-metric-environment-dimension", severity=Severity.ERROR,
      category="metric-dimensions", resource_types=(ALARM,),
      options={"dimension": "Environment"})
def custom_metric_environment_dimension(ctx: Context) -> Iterator[Violation]:
    """Alarm on a custom metric has no environment dimension.

    ## What it does
    For every metric an alarm watches (the alarm's own metric or each `MetricStat` of a
    metric-math alarm) whose `Namespace` does not start with `AWS/`, requires a dimension
    named `dimension` (default `Environment`). A namespace that cannot be resolved is
    reported as unverifiable.

    ## Why is this bad?
    Custom metrics published without an environment dimension from dev, staging and prod land
    in one series: the prod alarm fires on a dev test run, or a prod problem hides among dev
    noise.

    ## Example
    ```yaml
    Resources:
      InvalidRecords:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: FinData/DataQuality
          MetricName: InvalidRecords
          Statistic: Sum
          Period: 300
          EvaluationPeriods: 1
          Threshold: 10
          ComparisonOperator: GreaterThanThreshold
    ```

    ## Use instead
    ```yaml
    Parameters:
      Environment: {Type: String, Default: dev}
    Resources:
      InvalidRecords:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: FinData/DataQuality
          MetricName: InvalidRecords
          Dimensions: [{Name: Environment, Value: !Ref Environment}]
          Statistic: Sum
          Period: 300
          EvaluationPeriods: 1
          Threshold: 10
          ComparisonOperator: GreaterThanThreshold
    ```

    ## Options
    - `dimension` (string, default `Environment`): the name of the environment dimension.

    ## References
    - [CloudWatch concepts: dimensions](https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension)
    """
    for alarm in ctx.resources():
        yield from ctx.each_variant(alarm,
                                    lambda v, a=alarm: _custom_metric_violations(ctx, a, v))
