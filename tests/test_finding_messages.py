"""Messages say what is true of the template: which ARNs a partial TLS Deny leaves open, and
that a crawler without a security configuration risks only its logs."""

from __future__ import annotations

from helpers import RULE_FIXTURES

from cfnaudit.api import Config, audit


def _messages(path, code: str) -> list[str]:
    report = audit([path], Config(select=(code,)))
    return [f.message for f in report.findings if f.code == code]


def test_partial_tls_deny_names_what_it_covers_and_what_is_left() -> None:
    [message] = _messages(RULE_FIXTURES / "BKT002" / "fail_prefix.yaml", "BKT002")
    assert "only over `arn:aws:s3:::${LogBucket}/AWSLogs/${AWS::AccountId}/*`" in message
    assert "the bucket ARN and the other objects are left uncovered" in message


def test_crawler_without_security_configuration_risks_only_its_logs() -> None:
    messages = _messages(RULE_FIXTURES / "ENC002" / "fail.yaml", "ENC002")
    crawler = [m for m in messages if m.startswith("Crawler ") and "has no" in m]
    job = [m for m in messages if m.startswith("Job ") and "has no `SecurityConfiguration`" in m]
    assert crawler and all(m.endswith("so its logs are not encrypted with a customer-managed "
                                      "key") for m in crawler)
    assert job and all("output, logs and bookmarks" in m for m in job)
