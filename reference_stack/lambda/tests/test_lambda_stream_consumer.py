import base64
import json

import stream_consumer


def kinesis_record(payload, seq, shard="shardId-000000000001", arrival=1709251200.0):
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return {
        "eventID": f"{shard}:{seq}",
        "kinesis": {"data": base64.b64encode(data.encode()).decode(), "sequenceNumber": seq,
                    "approximateArrivalTimestamp": arrival},
    }


def test_decode_rejects_non_objects():
    assert stream_consumer.decode(kinesis_record({"a": 1}, "1")) == {"a": 1}
    assert stream_consumer.decode(kinesis_record("[1]", "1")) is None
    assert stream_consumer.decode(kinesis_record("{oops", "1")) is None


def test_partition_prefers_record_timestamp_in_utc():
    assert stream_consumer.partition({"timestamp": "2024-03-01T23:10:00-02:00"}, 0) == \
        "dt=2024-03-02/hour=01"
    assert stream_consumer.partition({"timestamp": "garbage"}, 1709251200.0) == \
        "dt=2024-03-01/hour=00"
    assert stream_consumer.partition(None, 1709251200.0) == "dt=2024-03-01/hour=00"


def test_group_splits_by_partition_and_quarantines_bad_json():
    records = [
        kinesis_record({"timestamp": "2024-03-01T10:00:00Z"}, "100"),
        kinesis_record({"timestamp": "2024-03-01T10:59:00Z"}, "101"),
        kinesis_record({"timestamp": "2024-03-01T11:00:00Z"}, "102"),
        kinesis_record("{bad", "103"),
    ]
    groups = stream_consumer.group(records)
    assert sorted(groups) == [
        "landing/dt=2024-03-01/hour=10/shardId-000000000001-100.json",
        "landing/dt=2024-03-01/hour=11/shardId-000000000001-102.json",
        "quarantine/dt=2024-03-01/hour=00/shardId-000000000001-103.json",
    ]


class FlakyS3:
    def __init__(self, fail_prefix):
        self.fail_prefix = fail_prefix
        self.puts = []

    def put_object(self, **kwargs):
        if kwargs["Key"].startswith(self.fail_prefix):
            raise RuntimeError("throttled")
        self.puts.append(kwargs)


def test_process_reports_failed_sequence_numbers():
    event = {"Records": [kinesis_record({"timestamp": "2024-03-01T10:00:00Z"}, "7"),
                         kinesis_record({"timestamp": "2024-03-02T10:00:00Z"}, "8"),
                         kinesis_record({"timestamp": "2024-03-02T10:05:00Z"}, "9")]}
    s3 = FlakyS3("landing/dt=2024-03-02")
    result = stream_consumer.process(event, s3, "raw", "arn:aws:kms:us-east-1:1:key/k")
    assert result == {"batchItemFailures": [{"itemIdentifier": "8"}, {"itemIdentifier": "9"}]}
    assert len(s3.puts) == 1
    assert s3.puts[0]["ServerSideEncryption"] == "aws:kms"
    assert s3.puts[0]["Body"].decode().count("\n") == 1
