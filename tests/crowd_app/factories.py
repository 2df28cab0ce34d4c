"""Factories of crowd_app's rows, for tests that set up a state directly (not through the
services): a request that never reached a worker, a delivery attempt in a given outcome."""

import uuid

import factory
from django.utils import timezone

from crowd_app.models import CrowdAnswer, CrowdRequest, Cruncher, WebhookDelivery
from tests.factories import CrowdAccountFactory


class CrowdRequestFactory(factory.django.DjangoModelFactory):
    """A pending free-text request; ``completed_with_hook=url`` makes it complete, its webhook
    pending to ``url``."""

    class Meta:
        model = CrowdRequest

    class Params:
        completed_with_hook = ""

    account = factory.SubFactory(CrowdAccountFactory)
    api_key = None
    type = "free-text"
    params = factory.LazyAttribute(
        lambda o: {
            "instruction": "x",
            **({"hook_url": o.completed_with_hook} if o.completed_with_hook else {}),
        }
    )
    hook_url = factory.LazyAttribute(lambda o: o.completed_with_hook)
    status = factory.LazyAttribute(
        lambda o: CrowdRequest.Status.COMPLETE if o.completed_with_hook else CrowdRequest.Status.PENDING
    )
    response = factory.LazyAttribute(lambda o: "done" if o.completed_with_hook else None)
    completed_at = factory.LazyAttribute(lambda o: timezone.now() if o.completed_with_hook else None)
    webhook_state = factory.LazyAttribute(
        lambda o: (
            CrowdRequest.WebhookState.PENDING if o.completed_with_hook else CrowdRequest.WebhookState.NONE
        )
    )


class CruncherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cruncher
        django_get_or_create = ("simulated", "name")

    simulated = True
    name = factory.Sequence(lambda n: f"robot-{n}")
    cruncher_id = factory.LazyFunction(lambda: uuid.uuid4().hex)


class CrowdAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrowdAnswer

    request = factory.SubFactory(CrowdRequestFactory)
    cruncher = factory.SubFactory(CruncherFactory)
    response = "a"


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """One attempt of a delivery of ``request``'s webhook, to its hook URL."""

    class Meta:
        model = WebhookDelivery

    request = factory.SubFactory(CrowdRequestFactory, completed_with_hook="http://127.0.0.1:9/hook")
    message_id = factory.LazyFunction(lambda: f"msg_{uuid.uuid4().hex}")
    attempt = 1
    url = factory.LazyAttribute(lambda o: o.request.hook_url)
    outcome = WebhookDelivery.Outcome.PENDING
