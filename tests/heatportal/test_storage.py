"""File storage: local files by default, S3-compatible storage through django-storages."""

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.heatportal.test_settings import run_django

ROUND_TRIP = """
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
name = default_storage.save("outputs/probe.bin", ContentFile(b"heat" * 1000))
print(name, default_storage.size(name), default_storage.open(name).read()[:8].decode())
"""
S3_ENV = {"S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"}


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_ENV["S3_REGION"],
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def s3_endpoint():
    """An S3-compatible server on loopback (moto's), with a bucket ``heat-media``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3_client(endpoint).create_bucket(Bucket="heat-media")
    yield endpoint
    server.stop()


def test_files_go_to_the_s3_bucket_when_configured(s3_endpoint, tmp_path):
    env = {**S3_ENV, "S3_BUCKET": "heat-media", "S3_ENDPOINT_URL": s3_endpoint}

    result = run_django(ROUND_TRIP, "heatportal.settings.base", tmp_path, **env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["outputs/probe.bin", "4000", "heatheat"]
    listing = s3_client(s3_endpoint).list_objects_v2(Bucket="heat-media")
    assert [item["Key"] for item in listing["Contents"]] == ["outputs/probe.bin"]
    assert not (tmp_path / "media").exists()


def test_files_go_to_the_data_folder_by_default(tmp_path):
    result = run_django(ROUND_TRIP, "heatportal.settings.base", tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "media" / "outputs" / "probe.bin").read_bytes() == b"heat" * 1000
