"""The sessions area's services, against the real database and storage: projects, sessions
(shared ones created or joined), node outputs, scenario instances and the configuration rules."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from heatportal.services import Conflict, ServiceError, TooLarge
from sessions_app import services
from sessions_app.models import NodeInstance, NodeOutput, PlatformConfiguration, Session
from tests.factories import UserFactory
from tests.sessions_app.factories import (
    ConfigFactory,
    NodeTemplateFactory,
    ProjectFactory,
    SessionTemplateFactory,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOOLEAN = PlatformConfiguration.ValueType.BOOLEAN
INTEGER = PlatformConfiguration.ValueType.INTEGER


@pytest.fixture
def user():
    return UserFactory(role="Trainee")


def new_session(user, project, **fields):
    return services.session_create(user=user, project=project, session_template=None, name="run", **fields)


def shared(user, project, template, start=START, **fields):
    arguments = {
        "user": user,
        "project": project,
        "session_template": template,
        "name": "shared run",
        "simulation_name": "sim",
        "email": "a@example.org",
        "start_time_utc": start,
        "machine_group": 1,
    }
    return services.shared_session_create_or_join(**{**arguments, **fields})


def other_template():
    """A second template of two nodes, the first an input to the documents' ``raw`` source."""
    template = SessionTemplateFactory(name="Other")
    NodeTemplateFactory(session_template=template, configuration={"dataSourceName": "raw"})
    NodeTemplateFactory(session_template=template, type="Preprocessor")
    return template


def input_node(session: Session) -> NodeInstance:
    return session.node_instances.get(type="InputNode")


def stored_files(node: NodeInstance) -> list[str]:
    folder = f"node-outputs/raw/{node.session_id}/{node.pk}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


# --- Projects ---------------------------------------------------------------------------------


def test_project_create_stores_the_project_with_a_hex_id(template):
    owner = UserFactory(role="Instructor")

    project = services.project_create(
        owner=owner, title="Demo", icon="i.png", default_session_template=template
    )

    project.refresh_from_db()
    assert (project.title, project.owner, project.icon) == ("Demo", owner, "i.png")
    assert project.default_session_template == template
    assert len(project.hex_id) == 8


def test_project_update_changes_only_the_given_fields(project):
    services.project_update(project=project, title="Renamed")

    project.refresh_from_db()
    assert project.title == "Renamed"
    assert project.description == ""


# --- Sessions ---------------------------------------------------------------------------------


def test_session_create_instantiates_one_node_per_template_node(user, project, template):
    session = new_session(user, project, email="a@example.org", metadata={"k": 1})

    assert session.session_template == template
    assert session.metadata == {"k": 1}
    nodes = list(session.node_instances.order_by("id"))
    assert [(node.name, node.type) for node in nodes] == [
        ("JsonInput Node", "InputNode"),
        ("Preprocessing Node", "Preprocessor"),
    ]
    assert nodes[0].configuration == {"dataSourceName": "raw"}
    assert nodes[0].node_template.key == "json-input"


def test_session_create_without_any_template_is_refused(user):
    project = ProjectFactory(default_session_template=None)

    with pytest.raises(ServiceError, match="ProjectId and TemplateId are required"):
        new_session(user, project)
    assert not Session.objects.exists()


def test_session_update_with_a_new_template_instantiates_its_nodes(user, project):
    session = new_session(user, project)
    old_nodes = set(session.node_instances.values_list("pk", flat=True))
    other = other_template()

    services.session_update(session=session, session_template=other, name="renamed")

    session.refresh_from_db()
    assert (session.name, session.session_template) == ("renamed", other)
    new_nodes = set(session.node_instances.values_list("pk", flat=True))
    assert len(new_nodes) == 2
    assert not new_nodes & old_nodes
    assert set(session.node_instances.values_list("node_template__session_template", flat=True)) == {other.pk}


def test_session_update_keeps_the_nodes_when_the_template_is_the_same(user, project, template):
    session = new_session(user, project)
    nodes = set(session.node_instances.values_list("pk", flat=True))

    services.session_update(session=session, session_template=template, email="b@example.org")

    assert set(session.node_instances.values_list("pk", flat=True)) == nodes
    assert Session.objects.get(pk=session.pk).email == "b@example.org"


def test_session_update_refuses_a_new_template_once_outputs_exist(user, project):
    session = new_session(user, project)
    services.node_output_create(node_instance=input_node(session), chunks=iter([b"data"]))
    other = other_template()

    with pytest.raises(ServiceError, match="already has uploaded outputs"):
        services.session_update(session=session, session_template=other)
    session.refresh_from_db()
    assert session.session_template != other


def test_session_close_records_who_and_why_once(user, project):
    session = new_session(user, project)
    first = timezone.now() - timedelta(hours=1)

    services.session_close(session=session, email="a@example.org", reason="done", close_at=first)
    services.session_close(session=session, email="b@example.org", reason="again", close_at=None)

    session.refresh_from_db()
    assert (session.closed_at, session.closed_by_email, session.close_reason) == (
        first,
        "a@example.org",
        "done",
    )


def test_session_close_without_a_time_closes_now(user, project):
    before = timezone.now()

    session = services.session_close(session=new_session(user, project), email="", reason="", close_at=None)

    assert before <= session.closed_at <= timezone.now()


# --- Shared sessions --------------------------------------------------------------------------


def test_shared_session_is_created_then_joined_within_the_window(user, project, template):
    created, was_created = shared(user, project, template)
    joined, was_joined_created = shared(
        UserFactory(), project, template, start=START + timedelta(seconds=299)
    )

    assert (was_created, was_joined_created) == (True, False)
    assert joined.pk == created.pk
    assert created.is_shared
    assert (created.machine_group, created.time_window_seconds) == (1, 300)
    assert created.node_instances.count() == 2
    assert Session.objects.count() == 1


@pytest.mark.parametrize(
    "other",
    [
        {"start": START + timedelta(seconds=301)},
        {"machine_group": 2},
        {"simulation_name": "other sim"},
    ],
)
def test_shared_session_outside_its_key_or_window_is_a_new_one(user, project, template, other):
    first, _ = shared(user, project, template)

    second, created = shared(user, project, template, **other)

    assert created
    assert second.pk != first.pk


def test_a_closed_shared_session_is_not_joined(user, project, template):
    first, _ = shared(user, project, template)
    services.session_close(session=first, email="", reason="", close_at=None)

    second, created = shared(user, project, template)

    assert created
    assert second.pk != first.pk


def test_shared_session_window_at_the_end_of_time_does_not_overflow(user, project, template):
    last = datetime.max.replace(tzinfo=UTC) - timedelta(seconds=10)

    session, created = shared(user, project, template, start=last)
    again, joined_created = shared(user, project, template, start=last)

    assert (created, joined_created) == (True, False)
    assert again.pk == session.pk


# --- Node outputs -----------------------------------------------------------------------------


def test_node_output_create_writes_the_file_and_records_it(user, project):
    node = input_node(new_session(user, project))

    output = services.node_output_create(
        node_instance=node, chunks=iter([b"hello ", b"world"]), content_type="text/plain", filename="a.txt"
    )

    output.refresh_from_db()
    assert (output.size, output.content_type, output.filename) == (11, "text/plain", "a.txt")
    assert output.sha256 == hashlib.sha256(b"hello world").hexdigest()
    assert output.data_source.name == "raw"
    assert output.configuration == {"dataSourceName": "raw"}
    assert output.data_path.startswith(f"node-outputs/raw/{node.session_id}/{node.pk}/")
    with default_storage.open(output.data_path, "rb") as stored:
        assert stored.read() == b"hello world"


def test_node_output_create_refuses_a_node_without_a_data_source(user, project):
    node = new_session(user, project).node_instances.get(type="Preprocessor")

    with pytest.raises(ServiceError, match="the node has no dataSourceName"):
        services.node_output_create(node_instance=node, chunks=iter([b"x"]))
    assert not NodeOutput.objects.exists()


def test_node_output_create_refuses_an_unknown_data_source(user, project):
    node = input_node(new_session(user, project))
    node.configuration = {"dataSourceName": "missing"}
    node.save()

    with pytest.raises(ServiceError, match="unknown data source 'missing'"):
        services.node_output_create(node_instance=node, chunks=iter([b"x"]))


def test_an_upload_that_grows_past_the_limit_is_413_and_its_file_is_removed(user, project, settings):
    settings.HEAT_MAX_UPLOAD_BYTES = 1000
    node = input_node(new_session(user, project))

    with pytest.raises(TooLarge):
        services.node_output_create(node_instance=node, chunks=iter([b"x" * 600, b"y" * 600]))

    assert stored_files(node) == []
    assert NodeOutput.objects.count() == 0


def test_a_failing_stream_leaves_no_file_and_no_row(user, project):
    node = input_node(new_session(user, project))

    def broken():
        yield b"a" * 100
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        services.node_output_create(node_instance=node, chunks=broken())

    assert stored_files(node) == []
    assert NodeOutput.objects.count() == 0


# --- Scenario instances -----------------------------------------------------------------------


def test_scenario_instance_create_records_it_on_the_session(user, project):
    session = new_session(user, project)

    scenario = services.scenario_instance_create(
        session=session,
        scenario_name="peak",
        simulation_id="sim-1",
        start=START,
        end=START + timedelta(hours=1),
    )

    assert list(session.scenario_instances.all()) == [scenario]
    assert (scenario.scenario_name, scenario.simulation_id, scenario.start) == ("peak", "sim-1", START)


def test_scenario_instance_create_needs_a_name(user, project):
    session = new_session(user, project)

    with pytest.raises(ServiceError, match="Scenarion name is required"):
        services.scenario_instance_create(session=session, scenario_name="")
    assert not session.scenario_instances.exists()


# --- Platform configuration -------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "stored"), [("TRUE", "true"), (" false\n", "false")])
def test_config_create_stores_booleans_as_true_or_false(sent, stored):
    config = services.config_create(name="flags:beta", value_type=BOOLEAN, value=sent, description="d")

    config.refresh_from_db()
    assert (config.name, config.value, config.description) == ("flags:beta", stored, "d")


@pytest.mark.parametrize("name", ["", " flags", "flags:", "a::b", ":x"])
def test_config_create_refuses_a_name_with_an_empty_part(name):
    with pytest.raises(ServiceError, match="Invalid configuration name"):
        services.config_create(name=name, value_type=0, value="x")
    assert not PlatformConfiguration.objects.exists()


@pytest.mark.parametrize(
    ("value_type", "value", "message"),
    [
        (9, "x", "Invalid configuration value type"),
        (BOOLEAN, "yes", "'yes' is not a boolean: use true or false"),
        (INTEGER, "1.5", "'1.5' is not an integer"),
        (PlatformConfiguration.ValueType.FLOAT, "nan", "'nan' is not a finite number"),
        (PlatformConfiguration.ValueType.JSON, "{", "'{' is not JSON"),
    ],
)
def test_config_create_refuses_a_value_not_of_its_type(value_type, value, message):
    with pytest.raises(ServiceError, match=message):
        services.config_create(name="a:b", value_type=value_type, value=value)
    assert not PlatformConfiguration.objects.exists()


def test_config_create_refuses_a_name_taken(db):
    ConfigFactory(name="a:b")

    with pytest.raises(Conflict, match="same name already exists"):
        services.config_create(name="a:b", value_type=0, value="x")
    assert PlatformConfiguration.objects.count() == 1


def test_config_update_renames_and_retypes(db):
    config = ConfigFactory(name="a:b", value="x")

    services.config_update(config=config, name="a:c", value_type=INTEGER, value=" 42", description="n")

    config.refresh_from_db()
    assert (config.name, config.value_type, config.value, config.description) == ("a:c", INTEGER, " 42", "n")


def test_config_update_applies_the_same_rules(db):
    config = ConfigFactory(name="a:b", value="x")
    ConfigFactory(name="a:taken")

    with pytest.raises(Conflict):
        services.config_update(config=config, name="a:taken", value_type=0, value="x", description="")
    with pytest.raises(ServiceError, match="not a boolean"):
        services.config_update(config=config, name="a:b", value_type=BOOLEAN, value="1", description="")
    config.refresh_from_db()
    assert (config.name, config.value) == ("a:b", "x")


def test_config_delete_removes_it(db):
    config = ConfigFactory(name="a:b")

    services.config_delete(config=config)

    assert not PlatformConfiguration.objects.exists()
