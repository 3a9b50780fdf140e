"""A real S3-compatible server for tests (moto's server mode on 127.0.0.1), and a fresh bucket
on it with the standard AWS environment pointing there: what `publish` and `sources:` on
object storage are tested against. tests/conftest.py registers this module as a plugin, so
`s3_endpoint` is a fixture of every test; `fresh_bucket` is imported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def fresh_bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch, name: str) -> Any:
    """A new bucket named after the test `name`, as a boto3 client with `.bucket` set; the
    standard AWS environment points at `endpoint` (a command run by the test inherits it), and
    no credentials or config of this machine are read."""
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(variable, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    bucket = name.replace("_", "-")[:50].strip("-").lower()
    client.create_bucket(Bucket=bucket)
    client.bucket = bucket
    return client
