"""Settings come from the environment: embedded defaults, real services when configured."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "options": db.get("OPTIONS", {}), "conn_max_age": db["CONN_MAX_AGE"],
    "broker": settings.CELERY_BROKER_URL, "cache": settings.CACHES["default"]["BACKEND"],
    "storage": settings.STORAGES["default"]["BACKEND"],
    "storage_options": settings.STORAGES["default"].get("OPTIONS", {}),
    "visibility_timeout": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout"),
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}, default=str))
"""

SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "S3_BUCKET", "DJANGO_SECRET_KEY")


def run_django(code: str, module: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with only the given service variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    clean.update(DJANGO_SETTINGS_MODULE=module, HEAT_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def run_settings(module: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    return run_django(PRINT_SETTINGS, module, tmp_path, **env)


def settings_with(tmp_path, **env: str) -> dict:
    result = run_settings("heatportal.settings.base", tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_needs_no_service(tmp_path):
    settings = settings_with(tmp_path)

    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["broker"].startswith("filesystem://")
    assert settings["cache"].endswith("FileBasedCache")
    assert settings["storage"].endswith("FileSystemStorage")
    assert settings["storage_options"]["location"] == str(tmp_path / "media")


def test_database_url_switches_to_postgresql_with_persistent_connections(tmp_path):
    settings = settings_with(tmp_path, DATABASE_URL="postgres://heat@db.example:5432/heat")

    assert settings["engine"] == "django.db.backends.postgresql"
    assert "pool" not in settings["options"]
    assert settings["conn_max_age"] is None  # one per thread that queries, kept


def test_a_database_pool_on_request(tmp_path):
    settings = settings_with(
        tmp_path, DATABASE_URL="postgres://heat@db.example:5432/heat", DATABASE_POOL_MAX_SIZE="24"
    )

    assert settings["options"]["pool"]["max_size"] == 24
    assert settings["conn_max_age"] == 0


def test_redis_url_switches_broker_and_cache(tmp_path):
    settings = settings_with(tmp_path, REDIS_URL="redis://cache.example:6379/2")

    assert settings["broker"] == "redis://cache.example:6379/2"
    assert settings["cache"].endswith("RedisCache")
    assert settings["visibility_timeout"] > settings["time_limit"]


def test_s3_bucket_switches_storage_to_s3(tmp_path):
    settings = settings_with(tmp_path, S3_BUCKET="heat-media", S3_ENDPOINT_URL="http://127.0.0.1:9000")

    assert settings["storage"] == "storages.backends.s3.S3Storage"
    assert settings["storage_options"]["bucket_name"] == "heat-media"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_settings("heatportal.settings.production", tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: Set the DJANGO_SECRET_KEY environment variable" in result.stderr


def test_production_starts_with_a_secret_key(tmp_path):
    result = run_settings("heatportal.settings.production", tmp_path, DJANGO_SECRET_KEY="x" * 50)

    assert result.returncode == 0, result.stderr
