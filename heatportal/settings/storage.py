"""Static files and stored files: the local media folder, or an S3-compatible bucket by name."""

from pathlib import Path

from .environment import BASE_DIR, DATA_DIR, env

# --- Static files and storage -----------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = DATA_DIR / "media"
# Serve from the finders when collectstatic has not run (development, tests).
SERVESTATIC_USE_FINDERS = env.bool("SERVESTATIC_USE_FINDERS", default=not STATIC_ROOT.is_dir())

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
S3_BUCKET = env("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "location": env("S3_PREFIX", default=""),
            "file_overwrite": False,
        },
    }
