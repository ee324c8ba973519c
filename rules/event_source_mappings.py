"""Event source mappings: failure handling and batching on streams and queues.

What a mapping reads is decided in this order:
1. the graph: `EventSourceArn` refers to an `AWS::Kinesis::Stream`, an
   `AWS::Kinesis::StreamConsumer` (enhanced fan-out, followed to its stream), an
   `AWS::DynamoDB::Table`/`GlobalTable` (`StreamArn`) or an `AWS::SQS::Queue`;
2. the ARN text (a literal, a parameter default, or the template of a `Fn::Sub`/`Fn::Join`):
   `:kinesis:`, `:dynamodb:`, `:sqs:`, `:kafka:`, `:mq:`, `:docdb:`;
3. the mapping's own shape: `Topics`, `Queues`, `SelfManagedEventSource` or
   `DocumentDBEventSourceConfig` mean a broker or database (not checked here).
A mapping whose source is still unknown is reported as "cannot be checked".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    Context,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    is_true,
    rule,
)

MAPPING = "AWS::Lambda::EventSourceMapping"
STREAM, QUEUE, OTHER = "stream", "queue", "other"

SOURCE_TYPES = {
    "AWS::Kinesis::Stream": STREAM,
    "AWS::Kinesis::StreamConsumer": STREAM,
    "AWS::DynamoDB::Table": STREAM,
    "AWS::DynamoDB::GlobalTable": STREAM,
    "AWS::SQS::Queue": QUEUE,
    "AWS::MSK::Cluster": OTHER,
    "AWS::MSK::ServerlessCluster": OTHER,
    "AWS::AmazonMQ::Broker": OTHER,
    "AWS::DocDB::DBCluster": OTHER,
}
ARN_SERVICES = {":kinesis:": STREAM, ":dynamodb:": STREAM, ":sqs:": QUEUE, ":kafka:": OTHER,
                ":mq:": OTHER, ":rds:": OTHER}
BROKER_KEYS = ("Topics", "Queues", "SelfManagedEventSource", "DocumentDBEventSourceConfig")


def _arn_text(ctx: Context, value: Any, scenario: Scenario) -> str | None:
    """Text that shows the shape of an ARN: resolved, or the template of a Sub or Join."""
    resolved = ctx.resolve(value, scenario)
    if isinstance(resolved, str):
        return resolved
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg
                                                     else None)
            return text if isinstance(text, str) else None
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
                and isinstance(arg[1], list):
            return str(arg[0]).join(p if isinstance(p, str) else "${}" for p in arg[1])
    return None


def source_kind(ctx: Context, mapping: Resource, scenario: Scenario,
                props: Mapping[str, Any]) -> str | Unresolved:
    """STREAM (Kinesis, DynamoDB), QUEUE (SQS), OTHER, or Unresolved."""
    for target in ctx.targets_at(mapping, "Properties", "EventSourceArn"):
        if target.type in SOURCE_TYPES:
            return SOURCE_TYPES[target.type]
    if any(key in props for key in BROKER_KEYS):
        return OTHER
    raw = props.get("EventSourceArn")
    text = _arn_text(ctx, raw, scenario)
    if text is not None:
        for marker, kind in ARN_SERVICES.items():
            if marker in text:
                return kind
    resolved = ctx.resolve(raw, scenario)
    reason = resolved.reason if isinstance(resolved, Unresolved) else f"`{text}` is not an ARN"
    return Unresolved(f"its event source is unknown ({reason})")


def _each_mapping(ctx: Context, checks: Mapping[str, Any]) -> Iterator[Violation]:
    """Run `checks[kind](mapping, scenario, props)` on mappings by the kind of source they
    read (STREAM or QUEUE)."""
    for mapping in ctx.resources():
        def per_variant(variant: Any, mapping: Resource = mapping) -> Iterator[Violation]:
            kind = source_kind(ctx, mapping, variant.scenario, variant.properties)
            if isinstance(kind, Unresolved):
                yield Violation(f"Mapping `{mapping.logical_id}` cannot be checked because "
                                f"{kind.reason}", mapping.at("Properties", "EventSourceArn"))
            elif kind in checks:
                yield from checks[kind](mapping, variant.scenario, variant.properties)
        yield from ctx.each_variant(mapping, per_variant)


def _present(props: Mapping[str, Any], *keys: str) -> Any:
    current: Any = props
    for key in keys:
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return None if current in ("", None) else current


# -------------------------------------------------------------------------------- streams


@rule(code="ESM001", name="stream-mapping-on-failure-destination", severity=Severity.ERROR,
      category="stream-failure-handling", resource_types=(MAPPING,))
def on_failure_destination(ctx: Context) -> Iterator[Violation]:
    """Stream mapping discards records that fail every retry.

    ## What it does
    Checks that every `AWS::Lambda::EventSourceMapping` on a Kinesis or DynamoDB stream
    (directly, or through an enhanced fan-out `AWS::Kinesis::StreamConsumer`) sets
    `DestinationConfig.OnFailure.Destination`.

    ## Why is this bad?
    When a batch keeps failing, Lambda eventually skips it. Without an on-failure
    destination, the skipped records are gone with no record of which ones: silent data loss
    in a financial feed.

    ## Example
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
    ```

    ## Use instead
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      Failed:
        Type: AWS::SQS::Queue
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
          DestinationConfig:
            OnFailure:
              Destination: !GetAtt Failed.Arn
    ```

    ## References
    - [Retaining discarded batches for a Kinesis event source](https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html)
    - [AWS::Lambda::EventSourceMapping DestinationConfig](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-eventsourcemapping-destinationconfig.html)
    """
    def check(mapping: Resource, scenario: Scenario,
              props: Mapping[str, Any]) -> Iterator[Violation]:
        if _present(props, "DestinationConfig", "OnFailure", "Destination") is None:
            yield Violation(f"Stream mapping `{mapping.logical_id}` has no on-failure "
                            "destination", mapping.path)
    yield from _each_mapping(ctx, {STREAM: check})


@rule(code="ESM002", name="stream-mapping-bisect-on-error", severity=Severity.ERROR,
      category="stream-failure-handling", resource_types=(MAPPING,))
def bisect_on_error(ctx: Context) -> Iterator[Violation]:
    """Stream mapping retries a whole batch for one bad record.

    ## What it does
    Checks that every event source mapping on a Kinesis or DynamoDB stream sets
    `BisectBatchOnFunctionError: true` (parameter defaults and conditions resolved).

    ## Why is this bad?
    One malformed record fails its whole batch; without bisecting, the good records of the
    batch are retried and finally discarded with it, and the shard stalls meanwhile.
    Bisecting splits the batch until the bad record is isolated.

    ## Example
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
    ```

    ## Use instead
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
          BisectBatchOnFunctionError: true
    ```

    ## References
    - [Lambda error handling for stream sources](https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-errors)
    """
    def check(mapping: Resource, scenario: Scenario,
              props: Mapping[str, Any]) -> Iterator[Violation]:
        raw = props.get("BisectBatchOnFunctionError")
        value = ctx.resolve(raw, scenario)
        path = mapping.at("Properties", "BisectBatchOnFunctionError")
        if isinstance(value, Unresolved):
            yield Violation(f"Bisecting of mapping `{mapping.logical_id}` cannot be checked "
                            f"because {value.reason}", path)
        elif not is_true(value):
            yield Violation(f"Stream mapping `{mapping.logical_id}` does not bisect failing "
                            "batches", path if raw is not None else mapping.path)
    yield from _each_mapping(ctx, {STREAM: check})


@rule(code="ESM003", name="stream-mapping-retry-bounds", severity=Severity.ERROR,
      category="stream-failure-handling", resource_types=(MAPPING,),
      options={"max_retry_attempts": 10000, "max_record_age_seconds": 604800})
def retry_bounds(ctx: Context) -> Iterator[Violation]:
    """Stream mapping retries failed records without bound.

    ## What it does
    Checks that every event source mapping on a Kinesis or DynamoDB stream sets
    `MaximumRetryAttempts` to a finite value (not absent, not `-1`) within the options, and,
    while retries are unbounded, `MaximumRecordAgeInSeconds` too. With retries bounded a
    failing batch is dropped (or sent on failure) after a few tries, so the shard cannot be
    blocked and an age bound would only decide to skip old records; an age set above the
    option is still reported.

    ## Why is this bad?
    Both default to infinite: a failing batch is retried until the record expires from the
    stream, blocking its shard for up to the whole retention period while the iterator age
    climbs. Bounds let the mapping skip the batch (to the on-failure destination) and move on.

    ## Example
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
          MaximumRetryAttempts: -1
    ```

    ## Use instead
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 2
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: processor
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
          MaximumRetryAttempts: 3
          MaximumRecordAgeInSeconds: 3600
    ```

    ## Options
    - `max_retry_attempts` (default 10000) and `max_record_age_seconds` (default 604800):
      upper bounds. The defaults are the service maxima, so any finite value passes; tighten
      them to your latency targets.

    ## References
    - [AWS::Lambda::EventSourceMapping](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html)
    - [Lambda error handling for stream sources](https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-errors)
    """
    bounds = (("MaximumRetryAttempts", int(ctx.option("max_retry_attempts"))),
              ("MaximumRecordAgeInSeconds", int(ctx.option("max_record_age_seconds"))))

    def check(mapping: Resource, scenario: Scenario,
              props: Mapping[str, Any]) -> Iterator[Violation]:
        name = mapping.logical_id
        (retry_key, retry_limit), _ = bounds
        retries = ctx.read_int(props.get(retry_key), scenario, what=retry_key)
        retries_bounded = isinstance(retries, int) and 0 <= retries <= retry_limit
        for key, limit in bounds:
            path = mapping.at("Properties", key)
            value = ctx.read_int(props.get(key), scenario, what=key)
            if key != retry_key and retries_bounded and not (
                    isinstance(value, int) and value > limit):
                continue  # a failing batch is dropped after a few tries: age adds nothing
            if value is None:
                yield Violation(f"Stream mapping `{name}` leaves `{key}` unbounded (default -1)",
                                mapping.path, key=key)
            elif isinstance(value, Unresolved):
                yield Violation(f"`{key}` of mapping `{name}` cannot be checked because "
                                f"{value.reason}", path)
            elif value < 0:
                yield Violation(f"Stream mapping `{name}` sets `{key}` to {value}, which is "
                                "unbounded", path)
            elif value > limit:
                yield Violation(f"Stream mapping `{name}` sets `{key}` to {value}, more than "
                                f"{limit}", path)
    yield from _each_mapping(ctx, {STREAM: check})


@rule(code="ESM004", name="mapping-batching", severity=Severity.WARNING,
      category="stream-failure-handling", resource_types=(MAPPING,))
def batching(ctx: Context) -> Iterator[Violation]:
    """Event source mapping leaves its batching to the defaults.

    ## What it does
    Checks that every event source mapping on a Kinesis or DynamoDB stream sets `BatchSize`
    and `MaximumBatchingWindowInSeconds`, and that every mapping on an SQS queue sets
    `BatchSize`. Two defaults that already suit are not reported: a mapping on a FIFO queue
    (its default batch of 10 is the FIFO maximum, and FIFO sources take no window), and the
    window of a mapping on a provisioned single-shard Kinesis stream (a low-volume feed,
    where invoking as records arrive is the low-latency choice).

    ## Why is this bad?
    The batch size and window decide cost, latency and how much one failure retries. Left
    to the defaults (100 records for streams, 10 for SQS, no window), a high-volume feed
    invokes the function far more often than needed, and the choice is invisible to
    reviewers. The window lets small bursts accumulate into full batches.

    ## Example
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: validator
          EventSourceArn: !GetAtt Ingest.Arn
    ```

    ## Use instead
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: validator
          EventSourceArn: !GetAtt Ingest.Arn
          BatchSize: 100
          MaximumBatchingWindowInSeconds: 5
    ```

    ## References
    - [Batching behavior of event source mappings](https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching)
    """
    def check_for(keys: tuple[str, ...], what: str) -> Any:
        def check(mapping: Resource, scenario: Scenario,
                  props: Mapping[str, Any]) -> Iterator[Violation]:
            if what == "Queue" and _reads_fifo_queue(ctx, mapping, scenario):
                return  # the default batch of 10 is a FIFO queue's maximum
            missing = [k for k in keys if props.get(k) is None and not (
                k == "MaximumBatchingWindowInSeconds" and _single_shard(ctx, mapping, scenario))]
            if missing:
                listed = " and ".join(f"`{k}`" for k in missing)
                yield Violation(f"{what} mapping `{mapping.logical_id}` does not set {listed}",
                                mapping.path)
        return check
    yield from _each_mapping(ctx, {
        STREAM: check_for(("BatchSize", "MaximumBatchingWindowInSeconds"), "Stream"),
        QUEUE: check_for(("BatchSize",), "Queue")})


def _source(ctx: Context, mapping: Resource, kind: str) -> Resource | None:
    found = ctx.targets_at(mapping, "Properties", "EventSourceArn", types=(kind,))
    return found[0] if found else None


def _reads_fifo_queue(ctx: Context, mapping: Resource, scenario: Scenario) -> bool:
    queue = _source(ctx, mapping, "AWS::SQS::Queue")
    if queue is None:
        return False
    name = ctx.resolve(queue.properties.get("QueueName"), scenario)
    return is_true(ctx.resolve(queue.properties.get("FifoQueue"), scenario)) or (
        isinstance(name, str) and name.endswith(".fifo"))


def _single_shard(ctx: Context, mapping: Resource, scenario: Scenario) -> bool:
    """The mapping reads a provisioned Kinesis stream of one shard: a low-volume feed, where
    invoking as records arrive is the low-latency choice a window would undo."""
    stream = _source(ctx, mapping, "AWS::Kinesis::Stream")
    if stream is None:
        return False
    mode = ctx.resolve(stream.properties.get("StreamModeDetails"), scenario)
    if isinstance(mode, dict) and ctx.resolve(mode.get("StreamMode"), scenario) == "ON_DEMAND":
        return False
    return ctx.read_int(stream.properties.get("ShardCount"), scenario, what="ShardCount") == 1


@rule(code="ESM005", name="sqs-mapping-partial-batch-response", severity=Severity.ERROR,
      category="stream-failure-handling", resource_types=(MAPPING,))
def partial_batch_response(ctx: Context) -> Iterator[Violation]:
    """SQS mapping retries a whole batch when one message fails.

    ## What it does
    Checks that every event source mapping on an SQS queue lists `ReportBatchItemFailures` in
    `FunctionResponseTypes`.

    ## Why is this bad?
    Without partial batch responses, one failed message makes the whole batch visible again:
    messages that were processed are processed twice, and the good ones count receives
    towards the redrive limit with the bad one. With it, the function returns the failed
    message ids and only those are retried.

    ## Example
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: validator
          EventSourceArn: !GetAtt Ingest.Arn
          BatchSize: 10
    ```

    ## Use instead
    ```yaml
    Resources:
      Ingest:
        Type: AWS::SQS::Queue
      Mapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: validator
          EventSourceArn: !GetAtt Ingest.Arn
          BatchSize: 10
          FunctionResponseTypes: [ReportBatchItemFailures]
    ```

    ## Known problems
    The function code must return `batchItemFailures`; the template cannot show that.

    ## References
    - [Implementing partial batch responses](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting)
    """
    def check(mapping: Resource, scenario: Scenario,
              props: Mapping[str, Any]) -> Iterator[Violation]:
        raw = props.get("FunctionResponseTypes")
        value = ctx.resolve(raw, scenario)
        path = mapping.at("Properties", "FunctionResponseTypes")
        if isinstance(value, Unresolved):
            yield Violation(f"Response types of mapping `{mapping.logical_id}` cannot be "
                            f"checked because {value.reason}", path)
            return
        items = [ctx.resolve(v, scenario) for v in value] if isinstance(value, list) else []
        if "ReportBatchItemFailures" not in items:
            yield Violation(f"Queue mapping `{mapping.logical_id}` does not report batch item "
                            "failures", path if raw is not None else mapping.path)
    yield from _each_mapping(ctx, {QUEUE: check})
