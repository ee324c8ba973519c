"""Record lineage of curated objects (processed bucket -> SNS -> SQS batches).

Reports partial batch failures so only failed messages return to the queue
(and, after maxReceiveCount, to its dead-letter queue).
"""
import json
import os
import urllib.parse
from datetime import UTC, datetime, timedelta


def partitions(key):
    """Hive-style partition values in an object key: {"event_date": ...}."""
    return dict(part.split("=", 1) for part in key.split("/")[:-1] if "=" in part)


def lineage_items(s3_event, now, ttl_days):
    """DynamoDB items for the ObjectCreated records of one S3 notification."""
    expires = int((now + timedelta(days=ttl_days)).timestamp())
    items = []
    for rec in s3_event.get("Records", []):
        if not rec.get("eventName", "").startswith("ObjectCreated"):
            continue
        bucket = rec["s3"]["bucket"]["name"]
        obj = rec["s3"]["object"]
        key = urllib.parse.unquote_plus(obj["key"])
        items.append({
            "pk": f"object#s3://{bucket}/{key}",
            "sk": "curated#" + rec["eventTime"],
            "stage": "curated",
            "size": obj.get("size", 0),
            "version_id": obj.get("versionId", "null"),
            "partitions": partitions(key),
            "recorded_at": now.isoformat(),
            "expires_at": expires,
        })
    return items


def process(event, table, now, ttl_days):
    failures = []
    for message in event["Records"]:
        try:
            for item in lineage_items(json.loads(message["body"]), now, ttl_days):
                table.put_item(Item=item)
        except Exception:  # the message goes back to the queue
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}


def handler(event, context):
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["LINEAGE_TABLE"])
    return process(event, table, datetime.now(UTC), int(os.environ["LINEAGE_TTL_DAYS"]))
