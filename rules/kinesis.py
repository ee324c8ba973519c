"""Kinesis streams: enhanced fan-out for shared streams, and a declared capacity mode.

Readers of a stream are found through the graph: event source mappings whose
`EventSourceArn` refers to the stream (shared throughput) or to an
`AWS::Kinesis::StreamConsumer` of it (enhanced fan-out), Firehose delivery streams with a
`KinesisStreamSourceConfiguration`, Kinesis Data Analytics applications and EventBridge pipes
whose source is the stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnaudit.rule import Context, Resource, Severity, Unresolved, Violation, rule

STREAM = "AWS::Kinesis::Stream"
CONSUMER = "AWS::Kinesis::StreamConsumer"
MAPPING = "AWS::Lambda::EventSourceMapping"

# Non-Lambda readers: (type, property path below which the stream reference sits)
OTHER_READERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AWS::KinesisFirehose::DeliveryStream", ("Properties", "KinesisStreamSourceConfiguration")),
    ("AWS::KinesisAnalyticsV2::Application",
     ("Properties", "ApplicationConfiguration", "SqlApplicationConfiguration", "Inputs")),
    ("AWS::KinesisAnalytics::Application", ("Properties", "Inputs")),
    ("AWS::Pipes::Pipe", ("Properties", "Source")),
)


def _readers(ctx: Context, stream: Resource) -> tuple[list[Resource], int]:
    """Mappings that read the stream directly, and the number of readers in all."""
    direct = ctx.referring_resources(stream, types=(MAPPING,),
                                     under=("Properties", "EventSourceArn"))
    total = len(direct)
    for consumer in ctx.referring_resources(stream, types=(CONSUMER,),
                                            under=("Properties", "StreamARN")):
        ctx.examine(consumer)
        total += max(1, len(ctx.referring_resources(consumer, types=(MAPPING,),
                                                    under=("Properties", "EventSourceArn"))))
    for reader_type, under in OTHER_READERS:
        total += len(ctx.referring_resources(stream, types=(reader_type,), under=under))
    return direct, total


@rule(code="KIN001", name="kinesis-enhanced-fan-out", severity=Severity.WARNING,
      category="kinesis-scaling", resource_types=(STREAM,), options={"always": False})
def enhanced_fan_out(ctx: Context) -> Iterator[Violation]:
    """Lambda reads a shared Kinesis stream without enhanced fan-out.

    ## What it does
    For every `AWS::Kinesis::Stream`, counts its readers (event source mappings, directly or
    through an `AWS::Kinesis::StreamConsumer`, Firehose delivery streams, analytics
    applications, pipes). When there are two or more (or always, with the `always` option),
    every Lambda event source mapping that reads the stream directly rather than through a
    `StreamConsumer` is reported, on its `EventSourceArn`.

    ## Why is this bad?
    Without enhanced fan-out, all readers of a shard share 2 MB/s and five `GetRecords`
    calls per second. A second consumer halves the first one's throughput and raises both
    iterator ages; at peak volume consumers fall behind and throttle each other. A
    `StreamConsumer` gives each reader its own 2 MB/s per shard, pushed over HTTP/2.

    ## Example
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 4
      Archiver:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: archiver
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
      Enricher:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: enricher
          EventSourceArn: !GetAtt Trades.Arn
          StartingPosition: LATEST
    ```

    ## Use instead
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          ShardCount: 4
      ArchiverConsumer:
        Type: AWS::Kinesis::StreamConsumer
        Properties:
          ConsumerName: archiver
          StreamARN: !GetAtt Trades.Arn
      EnricherConsumer:
        Type: AWS::Kinesis::StreamConsumer
        Properties:
          ConsumerName: enricher
          StreamARN: !GetAtt Trades.Arn
      Archiver:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: archiver
          EventSourceArn: !GetAtt ArchiverConsumer.ConsumerARN
          StartingPosition: LATEST
      Enricher:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: enricher
          EventSourceArn: !GetAtt EnricherConsumer.ConsumerARN
          StartingPosition: LATEST
    ```

    ## Options
    - `always` (default false): require enhanced fan-out for every Lambda reader, even a
      single one.

    ## Known problems
    Readers outside the stack, and mappings that name the stream by a literal ARN, are not
    counted.

    ## References
    - [Using enhanced fan-out with Lambda](https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-configure)
    - [Developing enhanced fan-out consumers](https://docs.aws.amazon.com/streams/latest/dev/enhanced-consumers.html)
    """
    always = bool(ctx.option("always"))
    for stream in ctx.resources():
        direct, total = _readers(ctx, stream)
        if not direct or (total < 2 and not always):
            continue
        for mapping in direct:
            ctx.examine(mapping)
            shared = f", shared by {total} readers" if total > 1 else ""
            yield Violation(f"Mapping `{mapping.logical_id}` reads stream `{stream.logical_id}` "
                            f"without enhanced fan-out{shared}",
                            mapping.at("Properties", "EventSourceArn"))


@rule(code="KIN002", name="kinesis-capacity-mode", severity=Severity.WARNING,
      category="kinesis-scaling", resource_types=(STREAM,))
def capacity_mode(ctx: Context) -> Iterator[Violation]:
    """Kinesis stream does not declare its capacity mode.

    ## What it does
    Checks that every `AWS::Kinesis::Stream` sets `StreamModeDetails.StreamMode`
    (`ON_DEMAND` or `PROVISIONED`) in every condition scenario; parameter defaults are
    resolved. A stream that sets `ShardCount` without `StreamModeDetails` has chosen
    provisioned capacity and its size: it passes.

    ## Why is this bad?
    The capacity mode decides how the stream scales: provisioned streams throttle producers
    at their shard count until someone reshards, on-demand streams scale by themselves. Left
    implicit (neither a mode nor a shard count), the stream gets one provisioned shard and
    nobody decided how it copes with peak trading volume.

    ## Example
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          RetentionPeriodHours: 48
    ```

    ## Use instead
    ```yaml
    Resources:
      Trades:
        Type: AWS::Kinesis::Stream
        Properties:
          StreamModeDetails: {StreamMode: ON_DEMAND}
    ```

    ## References
    - [Choosing the data stream capacity mode](https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html)
    - [AWS::Kinesis::Stream StreamModeDetails](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-kinesis-stream-streammodedetails.html)
    """
    for stream in ctx.resources():
        yield from ctx.each_variant(stream, lambda v, s=stream: _check_mode(
            ctx, s, v.scenario, v.properties))


def _check_mode(ctx: Context, stream: Resource, scenario: Any,
                props: Any) -> Iterator[Violation]:
    details = ctx.resolve(props.get("StreamModeDetails"), scenario)
    name = stream.logical_id
    if details is None:
        if props.get("ShardCount") is not None:
            return  # a shard count is a provisioned stream sized on purpose
        yield Violation(f"Stream `{name}` does not declare its capacity mode", stream.path)
        return
    path = stream.at("Properties", "StreamModeDetails")
    mode = (ctx.resolve(details.get("StreamMode"), scenario) if isinstance(details, dict)
            else details)
    if isinstance(mode, Unresolved):
        yield Violation(f"Capacity mode of stream `{name}` cannot be checked because "
                        f"{mode.reason}", path)
    elif mode not in ("ON_DEMAND", "PROVISIONED"):
        yield Violation(f"Stream `{name}` does not declare its capacity mode", path)
