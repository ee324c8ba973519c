"""SQS queues: redrive policies on queues in a message flow, and dead-letter retention.

A queue is *received from* when the graph shows something in the stack polling it: an event
source mapping, a SAM function's `SQS` event (or an `SNS` event's `SqsSubscription`), or a
pipe whose source it is and whose target answers synchronously (a pipe that starts its target
`FIRE_AND_FORGET`, with no enrichment, cannot fail on a message's content). A queue is *fed*
when an SNS subscription, a bucket's queue notification or an EventBridge rule target sends to
it: those are producers. A queue that something uses as its failure destination (another
queue's `RedrivePolicy`, a function's `DeadLetterConfig`, an on-failure destination, the
dead-letter queue of a subscription or rule target) is a dead-letter queue and needs no
redrive policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    dead_letter_sources,
    fold,
    is_true,
    parse_json_text,
    rule,
)

QUEUE = "AWS::SQS::Queue"
DEFAULT_RETENTION = 345600  # four days

# (source type, path below which a reference means "receives from this queue")
RECEIVER_EDGES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("AWS::Lambda::EventSourceMapping", ("Properties", "EventSourceArn")),
    ("AWS::Serverless::Function", ("Properties", "Events")),
    ("AWS::Pipes::Pipe", ("Properties", "Source")),
)
# (source type, path below which a reference means "sends to this queue")
PRODUCER_EDGES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("AWS::SNS::Subscription", ("Properties", "Endpoint")),
    ("AWS::SNS::Topic", ("Properties", "Subscription")),
    ("AWS::S3::Bucket", ("Properties", "NotificationConfiguration", "QueueConfigurations")),
    ("AWS::Events::Rule", ("Properties", "Targets")),
)
_FIRE_AND_FORGET = "FIRE_AND_FORGET"

_SUB_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _is_producer_edge(source_type: str, path: tuple[Any, ...]) -> bool:
    """Rule targets: only `Targets[i].Arn` is the target itself."""
    return source_type != "AWS::Events::Rule" or path[5:6] == ("Arn",)


def _is_receiver(source: Resource, path: tuple[Any, ...]) -> bool:
    if source.type == "AWS::Serverless::Function":
        # an SQS event's `Queue`, or the queue an SNS event subscribes and polls
        # (`SqsSubscription.QueueArn`)
        events = source.properties.get("Events")
        event = events.get(path[4]) if isinstance(events, dict) and len(path) > 6 else None
        kind = event.get("Type") if isinstance(event, dict) else None
        return (kind == "SQS" and path[5:7] == ("Properties", "Queue")) or (
            kind == "SNS" and path[5:8] == ("Properties", "SqsSubscription", "QueueArn"))
    if source.type == "AWS::Pipes::Pipe":
        return not _fire_and_forget(source.properties)
    return True


def _fire_and_forget(pipe: Mapping[str, Any]) -> bool:
    """The pipe hands each message to its target without waiting for the result, and has no
    enrichment step that could fail on it."""
    if pipe.get("Enrichment") is not None:
        return False
    targets = pipe.get("TargetParameters")
    if not isinstance(targets, dict):
        return False
    for key in ("StepFunctionStateMachineParameters", "LambdaFunctionParameters"):
        parameters = targets.get(key)
        if isinstance(parameters, dict) and parameters.get("InvocationType") == _FIRE_AND_FORGET:
            return True
    return False


def _edges(ctx: Context, queue: Resource, kinds: tuple[tuple[str, tuple[Any, ...]], ...],
           keep: Callable[[Resource, tuple[Any, ...]], bool]) -> list[str]:
    found = []
    for source_type, under in kinds:
        for edge in ctx.referrers(queue, types=(source_type,), under=under):
            if keep(ctx.template.resources[edge.source_id], edge.path):
                found.append(edge.source_id)
    return list(dict.fromkeys(found))


def receivers(ctx: Context, queue: Resource) -> list[str]:
    """Resources of the stack that receive messages from `queue` (template order of kinds)."""
    return _edges(ctx, queue, RECEIVER_EDGES, _is_receiver)


def producers(ctx: Context, queue: Resource) -> list[str]:
    """Resources of the stack that send messages to `queue`."""
    return _edges(ctx, queue, PRODUCER_EDGES,
                  lambda source, path: _is_producer_edge(source.type, path))


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
            resolved = parse_json_text(resolved)
        except ValueError:
            return Unresolved("its `RedrivePolicy` is not valid JSON")
    return resolved if isinstance(resolved, (dict, Unresolved)) else None


# ------------------------------------------------------------------------------------ rules


@rule(code="SQS001", name="sqs-consumed-queue-redrive", severity=Severity.ERROR,
      category="sqs-redrive", resource_types=(QUEUE,),
      options={"max_receive_count": 10, "external_consumers": False})
def consumed_queue_redrive(ctx: Context) -> Iterator[Violation]:
    """Queue that the stack receives from has no bounded redrive to a dead-letter queue.

    ## What it does
    Finds every `AWS::SQS::Queue` that something in the stack receives from (an event source
    mapping, a SAM function's `SQS` event, a pipe whose source it is, unless the pipe starts
    its target `FIRE_AND_FORGET` with no enrichment) and checks that it has a `RedrivePolicy`
    (object or JSON text) with a `deadLetterTargetArn` and a `maxReceiveCount` at or below
    `max_receive_count`. The message names the receiver. Queues used as a dead-letter queue
    or failure destination by anything in the stack are exempt. A queue that the stack only
    sends to (an SNS subscription, a bucket notification, an EventBridge rule target) is the
    end of the stack's flow: its consumer, if any, lives elsewhere and is asked for only with
    `external_consumers`.

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
    - `external_consumers` (default false): also require a redrive policy on queues that the
      stack only sends to, assuming an application outside the stack receives from them.

    ## Known problems
    Receivers the template does not show (containers or instances polling with the SDK) are
    not seen: such a queue is checked only with `external_consumers`.

    ## References
    - [Amazon SQS dead-letter queues](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html)
    - [AWS::SQS::Queue RedrivePolicy](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html#aws-sqs-queue-redrivepolicy)
    """
    external = is_true(ctx.option("external_consumers"))
    for queue in ctx.resources():
        used = receivers(ctx, queue)
        how = "received from by"
        if not used and external:
            used, how = producers(ctx, queue), "fed by"
        if not used or dead_letter_sources(ctx, queue):
            continue
        yield from ctx.each_variant(queue, lambda v, q=queue, f=f"{how} `{used[0]}`":
                                    _check_redrive(ctx, q, v.scenario, v.properties, f))


def _check_redrive(ctx: Context, queue: Resource, scenario: Scenario,
                   props: Mapping[str, Any], usage: str) -> Iterator[Violation]:
    name = queue.logical_id
    policy = redrive_policy(ctx, scenario, props.get("RedrivePolicy"))
    path = queue.at("Properties", "RedrivePolicy")
    if policy is None:
        yield Violation(f"Queue `{name}`, {usage}, has no dead-letter queue",
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
    count = ctx.read_int(policy.get("maxReceiveCount"), scenario, what="maxReceiveCount")
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
        periods.append(DEFAULT_RETENTION if raw is None
                       else ctx.read_int(raw, scenario, what="MessageRetentionPeriod"))
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
