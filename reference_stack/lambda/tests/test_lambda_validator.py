import io
import json
from datetime import UTC, datetime

import pytest
import validator

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
TRADE = {"record_type": "trade", "symbol": "ACME", "price": 10.5, "quantity": 100,
         "timestamp": "2024-03-01T09:30:00Z"}


@pytest.mark.parametrize(
    ("record", "errors"),
    [
        (TRADE, []),
        ({**TRADE, "price": -1}, ["price not positive"]),
        ({**TRADE, "price": True}, ["price has wrong type"]),
        ({**TRADE, "quantity": None}, ["quantity missing"]),
        ({**TRADE, "timestamp": "yesterday"}, ["bad timestamp"]),
        ({"record_type": "order_book", "symbol": "ACME", "bids": [], "asks": [],
          "timestamp": "2024-03-01T09:30:00+01:00"}, []),
        ({"record_type": "market_depth", "symbol": "ACME", "timestamp": "2024-03-01"},
         ["levels missing"]),
        ({"record_type": "quote"}, ["unknown record_type"]),
        ([1, 2], ["not an object"]),
    ],
)
def test_validate_record(record, errors):
    assert validator.validate_record(record) == errors


def test_partition_key_is_utc_date():
    assert validator.partition_key({"timestamp": "2024-03-01T23:30:00-05:00"}) == "dt=2024-03-02"
    assert validator.partition_key({"timestamp": "2024-03-01T10:00:00"}) == "dt=2024-03-01"
    assert validator.partition_key({}) is None


def test_batches_keeps_order_and_remainder():
    assert list(validator.batches(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(validator.batches([], 3)) == []


def test_summarize_counts_outcomes_across_batches():
    lines = [json.dumps(TRADE), "not json", "", json.dumps({**TRADE, "price": 0})] * 3
    counts = validator.summarize(lines, size=2)
    assert counts["valid"] == 3
    assert counts["invalid"] == 6
    assert counts["errors"] == {"not JSON": 3, "price not positive": 3}


def test_metric_data_has_environment_dimension():
    data = validator.metric_data({"valid": 2, "invalid": 1}, "prod")
    assert {d["MetricName"]: d["Value"] for d in data} == {"ValidRecords": 2, "InvalidRecords": 1}
    assert all(d["Dimensions"] == [{"Name": "Environment", "Value": "prod"}] for d in data)


def test_lineage_item_has_ttl():
    item = validator.lineage_item("raw", "landing/a.json", {"valid": 1, "invalid": 0}, NOW, 30)
    assert item["pk"] == "object#s3://raw/landing/a.json"
    assert item["sk"] == "validated#2024-03-01T12:00:00+00:00"
    assert item["expires_at"] == int(NOW.timestamp()) + 30 * 86400


class Recorder:
    def __init__(self, **returns):
        self.calls = []
        self.returns = returns

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            return self.returns.get(name)
        return call


class Body:
    def __init__(self, lines):
        self._data = "\n".join(lines).encode()

    def iter_lines(self):
        return io.BytesIO(self._data).read().splitlines()


ENV = {"ENVIRONMENT": "prod", "LINEAGE_TTL_DAYS": "30", "MAX_INVALID_RATIO": "0.2",
       "DATA_QUALITY_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:dq"}


def s3_event(key):
    return {"Records": [{"s3": {"bucket": {"name": "raw"}, "object": {"key": key}}}]}


@pytest.mark.parametrize(("lines", "alerts"), [([json.dumps(TRADE)] * 4, 0),
                                               ([json.dumps(TRADE), "x"], 1)])
def test_process_publishes_metrics_lineage_and_alerts(lines, alerts):
    s3 = Recorder(get_object={"Body": Body(lines)})
    cw, sns, table = Recorder(), Recorder(), Recorder()
    validator.process(s3_event("landing/dt%3D2024-03-01/a.json"), s3, cw, sns, table, ENV, NOW)
    assert s3.calls[0][1] == {"Bucket": "raw", "Key": "landing/dt=2024-03-01/a.json"}
    assert cw.calls[0][1]["Namespace"] == "FinData/DataQuality"
    assert table.calls[0][0] == "put_item"
    assert len(sns.calls) == alerts
