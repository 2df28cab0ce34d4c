"""The sessions area's portal pages in a real browser."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import PlatformConfiguration
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def session(project):
    return services.session_create(
        user=project.owner,
        project=project,
        session_template=None,
        name="Morning run",
        simulation_name="grid-42",
    )


def test_the_projects_list_shows_each_project_with_its_session_count(sign_in, project, session):
    page = sign_in(UserFactory())

    page.goto("/sessions/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions")
    row = page.get_by_role("row", name=re.compile("Sample Project"))
    expect(row.get_by_role("cell")).to_have_text(
        [project.hex_id, project.owner.username, "Default Template", "1"]
    )
    expect(page.get_by_role("link", name="Session templates")).to_be_visible()


def test_a_project_page_lists_its_sessions_newest_first(sign_in, project, session):
    newer = services.session_create(
        user=project.owner, project=project, session_template=None, name="Afternoon run"
    )
    page = sign_in(UserFactory())
    page.goto("/sessions/")

    page.get_by_role("link", name="Sample Project").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sample Project")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows.locator("th")).to_have_text([newer.name, session.name])
    expect(rows.nth(1).get_by_role("cell")).to_have_text(
        ["grid-42", re.compile(r"\d{4}-\d\d-\d\d"), "Open", "2"]
    )


def test_an_unknown_project_is_a_404_page(sign_in, transactional_db):
    page = sign_in(UserFactory())

    response = page.goto("/sessions/projects/999999/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_a_node_output_downloads_from_the_session_page(sign_in, project, session, tmp_path):
    node = session.node_instances.get(type="InputNode")
    uploaded = b'{"reading": 42}\n' * 1000
    output = services.node_output_create(
        node_instance=node, chunks=iter([uploaded]), content_type="application/json", filename="readings.json"
    )
    page = sign_in(UserFactory())
    page.goto("/sessions/")
    page.get_by_role("link", name="Sample Project").click()

    page.get_by_role("link", name="Morning run").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Morning run")
    node_section = page.get_by_role("region", name="JsonInput Node")
    expect(node_section.locator("dl dd")).to_have_text(["InputNode", "raw"])
    outputs = node_section.get_by_role("table", name="Outputs of JsonInput Node")
    expect(outputs.locator("tbody tr").get_by_role("cell")).to_have_text(
        [re.compile(r"\d{4}-"), "15.6\xa0KB", output.sha256[:12] + "…", "application/json", "Download"]
    )
    with page.expect_download() as download_info:
        outputs.get_by_role("link", name=re.compile("Download output")).click()
    download = download_info.value
    assert download.suggested_filename == "readings.json"
    assert Path(download.path()).read_bytes() == uploaded


def test_the_templates_page_shows_nodes_and_edges(sign_in, template):
    page = sign_in(UserFactory())
    page.goto("/sessions/")

    page.get_by_role("link", name="Session templates").click()

    card = page.get_by_role("region", name="Default Template")
    nodes = card.get_by_role("table", name="Nodes").locator("tbody tr")
    expect(nodes.locator("th")).to_have_text(["json-input", "preprocess"])
    expect(nodes.nth(0).get_by_role("cell")).to_have_text(
        ["InputNode", "JsonInput Node", '{"dataSourceName": "raw"}']
    )
    expect(nodes.nth(1).get_by_role("cell")).to_have_text(["Preprocessor", "Preprocessing Node", "{}"])
    edges = card.get_by_role("table", name="Edges").locator("tbody tr")
    expect(edges).to_have_text([re.compile(r"JsonInput Node\s*→\s*Preprocessing Node")])
    expect(page.get_by_role("link", name="session templates in the admin")).to_have_attribute(
        "href", "/admin/sessions_app/sessiontemplate/"
    )


# --- Platform configuration -------------------------------------------------------------------


def test_an_admin_creates_an_integer_configuration(sign_in, transactional_db):
    page = sign_in(UserFactory(role="Admin"))
    page.goto("/sessions/")
    page.get_by_role("link", name="Platform configuration").click()
    page.get_by_role("link", name="New configuration").click()

    page.get_by_label("Name").fill("public_api_v1:max_rows")
    page.get_by_label("Type").select_option(label="Integer")
    page.get_by_label("Value").fill("500")
    page.get_by_label("Description").fill("Rows per page at most")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Platform configuration")
    row = page.get_by_role("row", name=re.compile("public_api_v1:max_rows"))
    expect(row.get_by_role("cell")).to_have_text(["Integer", "500", "Rows per page at most", "Edit Delete"])
    config = PlatformConfiguration.objects.get(name="public_api_v1:max_rows")
    assert (config.value_type, config.value) == (PlatformConfiguration.ValueType.INTEGER, "500")


def test_a_value_that_does_not_parse_is_rejected_and_nothing_is_saved(sign_in, transactional_db):
    page = sign_in(UserFactory(role="Admin"))
    page.goto("/sessions/config/new/")

    page.get_by_label("Name").fill("public_api_v1:max_rows")
    page.get_by_label("Type").select_option(label="Integer")
    page.get_by_label("Value").fill("lots")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_have_text("Invalid configuration value: 'lots' is not an integer.")
    expect(page.get_by_label("Value")).to_have_value("lots")
    assert not PlatformConfiguration.objects.exists()


def test_an_admin_edits_a_configuration(sign_in, transactional_db):
    services.config_create(name="ui:theme", value_type=0, value="light")
    page = sign_in(UserFactory(role="Admin"))
    page.goto("/sessions/config/")

    page.get_by_role("link", name="Edit ui:theme").click()
    expect(page.get_by_label("Value")).to_have_value("light")
    page.get_by_label("Value").fill("dark")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("row", name=re.compile("ui:theme")).get_by_role("cell").nth(1)).to_have_text(
        "dark"
    )
    assert PlatformConfiguration.objects.get(name="ui:theme").value == "dark"


def test_an_admin_reveals_a_private_value_in_place(sign_in, transactional_db):
    services.config_create(name="private:SmtpPassword", value_type=0, value="s3cr3t")
    page = sign_in(UserFactory(role="Admin"))
    page.goto("/sessions/config/")
    row = page.get_by_role("row", name=re.compile("private:SmtpPassword"))
    expect(row.get_by_role("cell").nth(1)).to_have_text("•••••• Reveal")

    row.get_by_role("button", name="Reveal private:SmtpPassword").click()

    expect(row.get_by_role("cell").nth(1)).to_have_text("s3cr3t")
    assert page.url.endswith("/sessions/config/")  # in place, no navigation


def test_an_admin_deletes_a_configuration_after_confirming(sign_in, transactional_db):
    services.config_create(name="ui:theme", value_type=0, value="light")
    page = sign_in(UserFactory(role="Admin"))
    page.goto("/sessions/config/")

    page.get_by_role("link", name="Delete ui:theme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete configuration ui:theme?")
    page.get_by_role("button", name="Delete configuration ui:theme").click()

    expect(page.get_by_role("status")).to_have_text("Configuration ui:theme deleted.")
    expect(page.get_by_role("row", name=re.compile("ui:theme"))).to_have_count(0)
    assert not PlatformConfiguration.objects.exists()


def test_a_trainee_gets_403_on_the_configuration_pages(sign_in, transactional_db):
    page = sign_in(UserFactory(role="Trainee"))

    for path in ["/sessions/config/", "/sessions/config/new/"]:
        response = page.goto(path)
        assert response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    page.goto("/sessions/")
    expect(page.get_by_role("link", name="Platform configuration")).to_have_count(0)
