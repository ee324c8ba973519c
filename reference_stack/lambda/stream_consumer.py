"""Kinesis (enhanced fan-out) consumer: land market data in the raw bucket.

Records are grouped by UTC date/hour and written as JSON lines with SSE-KMS.
Failed groups are reported as batch item failures, so Lambda bisects and
retries them and finally hands them to the on-failure destination.
"""
import base64
import json
import os
from datetime import UTC, datetime


def decode(record):
    """Parsed JSON payload of a Kinesis record, None when it is not JSON."""
    try:
        payload = json.loads(base64.b64decode(record["kinesis"]["data"]))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def partition(payload, arrival):
    """"dt=YYYY-MM-DD/hour=HH" from the record timestamp or arrival time."""
    ts = None
    if payload is not None:
        try:
            ts = datetime.fromisoformat(str(payload.get("timestamp")).replace("Z", "+00:00"))
        except ValueError:
            ts = None
    if ts is None:
        ts = datetime.fromtimestamp(arrival, UTC)
    elif ts.tzinfo:
        ts = ts.astimezone(UTC)
    return ts.strftime("dt=%Y-%m-%d/hour=%H")


def group(records):
    """{object key: [(sequence number, line)]}; bad JSON goes to quarantine/."""
    groups = {}
    for rec in records:
        kin = rec["kinesis"]
        payload = decode(rec)
        prefix = "landing" if payload is not None else "quarantine"
        shard = rec["eventID"].split(":")[0]
        part = partition(payload, kin["approximateArrivalTimestamp"])
        key = f"{prefix}/{part}/{shard}"
        line = json.dumps(payload) if payload is not None else kin["data"]
        groups.setdefault(key, []).append((kin["sequenceNumber"], line))
    return {f"{k}-{v[0][0]}.json": v for k, v in groups.items()}


def process(event, s3, bucket, key_id):
    failures = []
    for key, items in sorted(group(event["Records"]).items()):
        body = "\n".join(line for _, line in items) + "\n"
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body.encode(),
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
        except Exception:  # reported to Lambda, which retries
            failures.extend(seq for seq, _ in items)
    return {"batchItemFailures": [{"itemIdentifier": s} for s in sorted(failures, key=int)]}


def handler(event, context):
    import boto3

    return process(event, boto3.client("s3"), os.environ["RAW_BUCKET"], os.environ["KMS_KEY_ARN"])
