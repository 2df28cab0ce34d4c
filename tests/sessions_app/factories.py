import factory

from sessions_app.models import NodeTemplate, PlatformConfiguration, Project, SessionTemplate
from tests.factories import UserFactory


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    title = factory.Sequence(lambda n: f"Project {n}")
    owner = factory.SubFactory(UserFactory, role="Instructor")


class ConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlatformConfiguration

    name = factory.Sequence(lambda n: f"test:entry{n}")
    value = ""


class SessionTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionTemplate

    name = factory.Sequence(lambda n: f"Template {n}")


class NodeTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NodeTemplate

    session_template = factory.SubFactory(SessionTemplateFactory)
    key = factory.Sequence(lambda n: f"node-{n}")
    type = "InputNode"
    label = factory.LazyAttribute(lambda node: f"{node.key} label")
    position = factory.Sequence(lambda n: n)
