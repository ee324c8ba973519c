import json

import script_uploader

EVENT = {
    "RequestType": "Create", "StackId": "stack", "RequestId": "req", "LogicalResourceId": "Up",
    "ResponseURL": "https://example.invalid/response",
    "ResourceProperties": {"Bucket": "artifacts", "Key": "scripts/etl_job.py",
                           "KmsKeyArn": "arn:aws:kms:us-east-1:1:key/k",
                           "ScriptBody": "print(1)\n"},
}


class S3:
    def __init__(self, error=None):
        self.error = error
        self.puts = []

    def put_object(self, **kwargs):
        if self.error:
            raise self.error
        self.puts.append(kwargs)
        return {"VersionId": "v7"}


def test_create_uploads_with_kms_and_reports_uri():
    s3 = S3()
    body = json.loads(script_uploader.process(EVENT, s3))
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "s3://artifacts/scripts/etl_job.py"
    assert body["Data"] == {"S3Uri": "s3://artifacts/scripts/etl_job.py", "VersionId": "v7"}
    assert s3.puts[0]["ServerSideEncryption"] == "aws:kms"
    assert s3.puts[0]["Body"] == b"print(1)\n"


def test_delete_keeps_the_object():
    s3 = S3()
    event = {**EVENT, "RequestType": "Delete", "PhysicalResourceId": "s3://artifacts/x"}
    body = json.loads(script_uploader.process(event, s3))
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "s3://artifacts/x"
    assert s3.puts == []


def test_failure_is_reported_not_raised():
    body = json.loads(script_uploader.process(EVENT, S3(error=PermissionError("denied"))))
    assert body["Status"] == "FAILED"
    assert body["Reason"] == "PermissionError: denied"
    assert body["PhysicalResourceId"] == "Up"


def test_send_puts_the_body():
    seen = {}

    class Resp:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def opener(req, timeout):
        seen.update(method=req.get_method(), data=req.data, timeout=timeout)
        return Resp()

    assert script_uploader.send("https://example.invalid/r", b"{}", opener) == 200
    assert seen == {"method": "PUT", "data": b"{}", "timeout": 30}
