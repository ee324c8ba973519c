"""SQS queues: redrive policies on queues in a message flow, and dead-letter retention.

A queue is in a message flow when the graph shows a reference to it from an event source
mapping, an SNS subscription, a bucket's queue notification, an EventBridge rule target or a
pipe source. A queue that something uses as its failure destination (another queue's
`RedrivePolicy`, a function's `DeadLetterConfig`, an on-failure destination, the dead-letter
queue of a subscription or rule target) is a dead-letter queue and needs no redrive policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    as_int,
    dead_letter_sources,
    fold,
    rule,
)

QUEUE = "AWS::SQS::Queue"
DEFAULT_RETENTION = 345600  # four days

# (source type, path below which the reference means "messages flow through this queue")
FLOW_EDGES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("AWS::Lambda::EventSourceMapping", ("Properties", "EventSourceArn")),
    ("AWS::SNS::Subscription", ("Properties", "Endpoint")),
    ("AWS::SNS::Topic", ("Properties", "Subscription")),
    ("AWS::S3::Bucket", ("Properties", "NotificationConfiguration", "QueueConfigurations")),
    ("AWS::Events::Rule", ("Properties", "Targets")),
    ("AWS::Pipes::Pipe", ("Properties", "Source")),
)

_SUB_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _is_flow_edge(source_type: str, path: tuple[Any, ...]) -> bool:
    """Rule targets: only `Targets[i].Arn` is the target itself."""
    return source_type != "AWS::Events::Rule" or path[5:6] == ("Arn",)


def _flows(ctx: Context, queue: Resource) -> list[str]:
    found = []
    for source_type, under in FLOW_EDGES:
        for edge in ctx.referrers(queue, types=(source_type,), under=under):
            if _is_flow_edge(source_type, edge.path):
                found.append(edge.source_id)
    return list(dict.fromkeys(found))


def redrive_policy(ctx: Context, scenario: Scenario, value: Any) -> Any:
    """The RedrivePolicy as a dict (object or JSON text, also inside Fn::Sub), None when
    absent, or Unresolved."""
    if value is None:
        return None
    if isinstance(value, dict) and "Fn::Sub" in value:
        arg = value["Fn::Sub"]
        text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg
                                                 else None)
        if isinstance(text, str):
            value = _SUB_VARIABLE.sub("reference", text)
    resolved = ctx.resolve(value, scenario)
    if isinstance(resolved, str):
        try:
            resolved = json.loads(resolved)
        except ValueError:
            return Unresolved("its `RedrivePolicy` is not valid JSON")
    return resolved if isinstance(resolved, (dict, Unresolved)) else None


# ------------------------------------------------------------------------------------ rules


@rule(code="SQS001", name="sqs-consumed-queue-redrive", severity=Severity.ERROR,
      category="sqs-redrive", resource_types=(QUEUE,), options={"max_receive_count": 10})
def consumed_queue_redrive(ctx: Context) -> Iterator[Violation]:
    """Queue in a message flow has no bounded redrive to a dead-letter queue.

    ## What it does
    Finds every `AWS::SQS::Queue` that an event source mapping, SNS subscription, bucket
    notification, EventBridge rule target or pipe refers to, and checks that it has a
    `RedrivePolicy` (object or JSON text) with a `deadLetterTargetArn` and a
    `maxReceiveCount` at or below `max_receive_count`. Queues used as a dead-letter queue or
    failure destination by anything in the stack are exempt.

    ## Why is this bad?
    A message that makes the consumer fail (a poison message) returns to the queue after
    every visibility timeout and is received again and again until it expires, blocking
    batches and burning invocations. A redrive policy moves it aside after a few attempts,
    where an alarm can see it and an operator can replay it.

    ## Example
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
      Worker:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: worker
          EventSourceArn: !GetAtt Ingest.Arn
    ```

    ## Use instead
    ```yaml
    Resources:
      IngestDlq:
        Type: AWS::SQS::Queue
        Properties:
          MessageRetentionPeriod: 1209600
      Ingest:
        Type: AWS::SQS::Queue
        Properties:
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt IngestDlq.Arn
            maxReceiveCount: 5
      Worker:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: worker
          EventSourceArn: !GetAtt Ingest.Arn
    ```

    ## Options
    - `max_receive_count` (default 10): the most receives before a message moves aside.

    ## Known problems
    Queues that only applications outside the stack read are not recognised as consumed.

    ## References
    - [Amazon SQS dead-letter queues](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html)
    - [AWS::SQS::Queue RedrivePolicy](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html#aws-sqs-queue-redrivepolicy)
    """
    for queue in ctx.resources():
        flows = _flows(ctx, queue)
        if not flows or dead_letter_sources(ctx, queue):
            continue
        yield from ctx.each_variant(queue, lambda v, q=queue, f=flows[0]: _check_redrive(
            ctx, q, v.scenario, v.properties, f))


def _check_redrive(ctx: Context, queue: Resource, scenario: Scenario,
                   props: Mapping[str, Any], flow: str) -> Iterator[Violation]:
    name = queue.logical_id
    policy = redrive_policy(ctx, scenario, props.get("RedrivePolicy"))
    path = queue.at("Properties", "RedrivePolicy")
    if policy is None:
        yield Violation(f"Queue `{name}`, used by `{flow}`, has no dead-letter queue",
                        queue.path)
        return
    if isinstance(policy, Unresolved):
        yield Violation(f"Redrive policy of queue `{name}` cannot be checked because "
                        f"{policy.reason}", path)
        return
    if not policy.get("deadLetterTargetArn"):
        yield Violation(f"Redrive policy of queue `{name}` names no `deadLetterTargetArn`",
                        path)
    limit = int(ctx.option("max_receive_count"))
    count = as_int(ctx.resolve(policy.get("maxReceiveCount"), scenario))
    if count is None:
        yield Violation(f"Redrive policy of queue `{name}` sets no `maxReceiveCount`", path)
    elif isinstance(count, Unresolved):
        yield Violation(f"Receive count of queue `{name}` cannot be checked because "
                        f"{count.reason}", path)
    elif count > limit:
        yield Violation(f"Queue `{name}` redrives a message only after {count} receives, "
                        f"more than {limit}", path)


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{seconds} seconds"


@rule(code="SQS002", name="sqs-dlq-retention", severity=Severity.ERROR,
      category="sqs-redrive", resource_types=(QUEUE,))
def dead_letter_retention(ctx: Context) -> Iterator[Violation]:
    """Dead-letter queue keeps messages for less time than its source queue.

    ## What it does
    For every `AWS::SQS::Queue` whose `RedrivePolicy.deadLetterTargetArn` refers to a queue
    of the stack (found through the graph), compares the two `MessageRetentionPeriod`s
    (default 345600 seconds, four days; parameter defaults resolved) and reports a
    dead-letter queue that keeps messages for less time than its source.

    ## Why is this bad?
    For standard queues, a message keeps its original enqueue time when it moves to the
    dead-letter queue. If the dead-letter queue's retention is shorter, messages that spent a
    while in the source expire almost at once, before anyone can inspect or replay them.

    ## Example
    ```yaml
    Resources:
      IngestDlq:
        Type: AWS::SQS::Queue
      Ingest:
        Type: AWS::SQS::Queue
        Properties:
          MessageRetentionPeriod: 1209600
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt IngestDlq.Arn
            maxReceiveCount: 5
    ```

    ## Use instead
    ```yaml
    Resources:
      IngestDlq:
        Type: AWS::SQS::Queue
        Properties:
          MessageRetentionPeriod: 1209600
      Ingest:
        Type: AWS::SQS::Queue
        Properties:
          MessageRetentionPeriod: 345600
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt IngestDlq.Arn
            maxReceiveCount: 5
    ```

    ## Known problems
    Equal retention passes, as the rule is written; AWS recommends a strictly longer
    retention for the dead-letter queue. Dead-letter queues outside the stack are not read.

    ## References
    - [Amazon SQS dead-letter queues: retention](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html)
    """
    for source in ctx.resources():
        for dlq in ctx.targets_at(source, "Properties", "RedrivePolicy", types=(QUEUE,)):
            ctx.examine(dlq)
            value = {"source": source.properties, "dlq": dlq.properties}
            found = [(scenario, list(_compare_retention(ctx, scenario, source, dlq, branched)))
                     for scenario, branched in ctx.variants_of(source, value)]
            yield from fold(found)


def _compare_retention(ctx: Context, scenario: Scenario, source: Resource, dlq: Resource,
                       branched: Mapping[str, Any]) -> Iterator[Violation]:
    periods = []
    for props in (branched["source"], branched["dlq"]):
        raw = props.get("MessageRetentionPeriod") if isinstance(props, dict) else None
        periods.append(DEFAULT_RETENTION if raw is None else as_int(ctx.resolve(raw, scenario)))
    source_period, dlq_period = periods
    path = (dlq.at("Properties", "MessageRetentionPeriod")
            if "MessageRetentionPeriod" in branched["dlq"] else dlq.path)
    unknown = [p for p in periods if isinstance(p, Unresolved)]
    if unknown:
        yield Violation(f"Retention of dead-letter queue `{dlq.logical_id}` cannot be compared "
                        f"with `{source.logical_id}` because {unknown[0].reason}", path,
                        key=source.logical_id)
    elif isinstance(source_period, int) and isinstance(dlq_period, int) \
            and dlq_period < source_period:
        yield Violation(f"Dead-letter queue `{dlq.logical_id}` keeps messages "
                        f"{_duration(dlq_period)}, less than the {_duration(source_period)} "
                        f"of its source `{source.logical_id}`", path, key=source.logical_id)
