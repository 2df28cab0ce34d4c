"""Factories of rows the portal's own tests set up and no shared factory builds
(tests/factories.py holds the shared ones)."""

import factory

from scenarios_app.models import RunnerSession


class RunnerSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RunnerSession

    display_name = factory.Sequence(lambda n: f"runner session {n}")
