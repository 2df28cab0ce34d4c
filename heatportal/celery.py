"""The Celery application. Its configuration is the ``CELERY_*`` block of the settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatportal.settings.base")

app = Celery("heatportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
