"""CloudFormation custom resource: upload the Glue ETL script to S3.

Properties: Bucket, Key, KmsKeyArn, ScriptBody. Create/Update write the object
with SSE-KMS; Delete keeps it (the bucket is retained and versioned).
"""
import json
import urllib.request


def upload(props, s3):
    """Write the script; return (physical id, response data)."""
    out = s3.put_object(
        Bucket=props["Bucket"], Key=props["Key"], Body=props["ScriptBody"].encode("utf-8"),
        ContentType="text/x-python", ServerSideEncryption="aws:kms",
        SSEKMSKeyId=props["KmsKeyArn"],
    )
    uri = f"s3://{props['Bucket']}/{props['Key']}"
    return uri, {"S3Uri": uri, "VersionId": out.get("VersionId", "null")}


def response(event, status, physical_id, data=None, reason=""):
    """The JSON document CloudFormation expects at the pre-signed ResponseURL."""
    return json.dumps({
        "Status": status, "Reason": reason[:1000], "PhysicalResourceId": physical_id,
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"], "Data": data or {},
    }).encode("utf-8")


def process(event, s3):
    physical_id = event.get("PhysicalResourceId", event["LogicalResourceId"])
    try:
        if event["RequestType"] in ("Create", "Update"):
            physical_id, data = upload(event["ResourceProperties"], s3)
        else:
            data = {}
        return response(event, "SUCCESS", physical_id, data)
    except Exception as exc:  # any failure must reach CloudFormation
        return response(event, "FAILED", physical_id, reason=f"{type(exc).__name__}: {exc}")


def send(url, body, opener=urllib.request.urlopen):
    req = urllib.request.Request(url, data=body, method="PUT",
                                 headers={"Content-Type": "", "Content-Length": str(len(body))})
    with opener(req, timeout=30) as resp:
        return resp.status


def handler(event, context):
    import boto3

    send(event["ResponseURL"], process(event, boto3.client("s3")))
