import factory

from crowd_app.models import CrowdAccount
from heatportal.accounts.models import User
from sessions_app.models import DataSource, NodeTemplate, SessionTemplate
from sites_app.models import AccessGroup, Site

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    role = User.Role.TRAINEE
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(user, create, extracted, **kwargs):
        if create:
            user.save()


class AccessGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessGroup

    name = factory.Sequence(lambda n: f"group-{n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    access_group = factory.SubFactory(AccessGroupFactory)
    name = factory.Sequence(lambda n: f"Site {n}")


class CrowdAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrowdAccount

    name = factory.Sequence(lambda n: f"account-{n}")
    owner = factory.SubFactory(UserFactory)


def documents_session_template():
    """The documents' template: an input node with a data source feeding a preprocessor (which
    has no data source, so uploads to it are refused)."""
    raw = DataSource.objects.create(name="raw")
    template = SessionTemplate.objects.create(
        name="Default Template", description="Base template for sessions"
    )
    source = NodeTemplate.objects.create(
        session_template=template,
        key="json-input",
        type="InputNode",
        label="JsonInput Node",
        configuration={"dataSourceName": raw.name},
        position=0,
    )
    NodeTemplate.objects.create(
        session_template=template,
        key="preprocess",
        type="Preprocessor",
        label="Preprocessing Node",
        position=1,
    ).inputs.add(source)
    return template
