"""Helpers shared by the portal's own test modules."""

from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse


def changes_page(client: Client, **filters) -> str:
    response = client.get(reverse("changes"), filters)
    assert response.status_code == 200
    return response.content.decode()


def kind_of(model) -> int:
    return ContentType.objects.get_for_model(model).pk
