"""Validate JSON-lines objects landing in the raw bucket (S3 async invoke).

Errors raise: Lambda retries, then sends the event to the dead-letter queue.
"""
import json
import os
import urllib.parse
from datetime import UTC, datetime, timedelta

NUM = (int, float)
SCHEMAS = {
    "trade": {"symbol": str, "price": NUM, "quantity": NUM, "timestamp": str},
    "order_book": {"symbol": str, "bids": list, "asks": list, "timestamp": str},
    "market_depth": {"symbol": str, "levels": list, "timestamp": str},
}
NAMESPACE = "FinData/DataQuality"


def validate_record(rec):
    if not isinstance(rec, dict):
        return ["not an object"]
    schema = SCHEMAS.get(rec.get("record_type"))
    if schema is None:
        return ["unknown record_type"]
    errors = []
    for field, kind in schema.items():
        value = rec.get(field)
        if value is None:
            errors.append(field + " missing")
        elif isinstance(value, bool) or not isinstance(value, kind):
            errors.append(field + " has wrong type")
    if not errors and partition_key(rec) is None:
        errors.append("bad timestamp")
    if not errors and "price" in schema and rec["price"] <= 0:
        errors.append("price not positive")
    return errors


def partition_key(rec):
    """UTC date partition "dt=YYYY-MM-DD" of a record, None if unparsable."""
    try:
        ts = datetime.fromisoformat(str(rec["timestamp"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return "dt=" + (ts.astimezone(UTC) if ts.tzinfo else ts).strftime("%Y-%m-%d")


def batches(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def summarize(lines, size=500):
    counts = {"valid": 0, "invalid": 0, "errors": {}}
    for batch in batches((ln for ln in lines if ln.strip()), size):
        for line in batch:
            try:
                errs = validate_record(json.loads(line))
            except ValueError:
                errs = ["not JSON"]
            counts["invalid" if errs else "valid"] += 1
            for err in errs:
                counts["errors"][err] = counts["errors"].get(err, 0) + 1
    return counts


def metric_data(counts, env):
    dims = [{"Name": "Environment", "Value": env}]
    return [{"MetricName": m, "Dimensions": dims, "Unit": "Count", "Value": counts[k]}
            for m, k in (("ValidRecords", "valid"), ("InvalidRecords", "invalid"))]


def lineage_item(bucket, key, counts, now, ttl_days):
    return {
        "pk": f"object#s3://{bucket}/{key}", "sk": "validated#" + now.isoformat(),
        "stage": "validated", "valid": counts["valid"], "invalid": counts["invalid"],
        "expires_at": int((now + timedelta(days=ttl_days)).timestamp()),
    }


def process(event, s3, cloudwatch, sns, table, env, now):
    for rec in event["Records"]:
        bucket = rec["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(rec["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        counts = summarize(ln.decode("utf-8", "replace") for ln in body.iter_lines())
        cloudwatch.put_metric_data(Namespace=NAMESPACE,
                                   MetricData=metric_data(counts, env["ENVIRONMENT"]))
        table.put_item(Item=lineage_item(bucket, key, counts, now, int(env["LINEAGE_TTL_DAYS"])))
        total = counts["valid"] + counts["invalid"]
        if total and counts["invalid"] / total > float(env["MAX_INVALID_RATIO"]):
            sns.publish(TopicArn=env["DATA_QUALITY_TOPIC_ARN"], Subject="Data quality alert",
                        Message=json.dumps({"object": f"s3://{bucket}/{key}", **counts}))


def handler(event, context):
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["LINEAGE_TABLE"])
    process(event, boto3.client("s3"), boto3.client("cloudwatch"), boto3.client("sns"),
            table, os.environ, datetime.now(UTC))
