"""Upload data to HEAT end to end with heat_client: connect, discover, create a session, upload
a small text payload, check that it arrived and close the session.

Configured by the environment only:

    HEAT_BASE_URL             the HEAT URL, e.g. https://your-env.heatvr.io (required)
    HEAT_TOKEN                an access or offline token, or else
    HEAT_USERNAME, HEAT_PASSWORD
    HEAT_PROJECT_ID           the project to use (default: the first one)
    HEAT_SESSION_TEMPLATE_ID  the session template (default: the project's default template)
    HEAT_CONFIG_PREFIX        if set, print the platform configuration with this prefix

Exits with status 1 and the reason on standard error when something fails.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

from heat_client import (
    CloseSessionRequest,
    CreateSessionRequest,
    HeatClient,
    HeatClientError,
    ProjectInfo,
    SessionInfo,
)


class ExampleError(Exception):
    """A problem with the example's own settings or with what HEAT holds."""


def optional_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise ExampleError(f"{name} must be an integer, not {value!r}.") from error


def choose_project(projects: list[ProjectInfo], project_id: int | None) -> ProjectInfo:
    if project_id is not None:
        for project in projects:
            if project.id == project_id:
                return project
        raise ExampleError(
            f"HEAT_PROJECT_ID={project_id} is not among the {len(projects)} project(s) listed."
        )
    if not projects:
        raise ExampleError("HEAT has no projects: create one first (or set HEAT_PROJECT_ID).")
    return projects[0]


def run() -> None:
    project_id = optional_int("HEAT_PROJECT_ID")
    template_id = optional_int("HEAT_SESSION_TEMPLATE_ID")
    config_prefix = os.environ.get("HEAT_CONFIG_PREFIX", "").strip()

    with HeatClient.from_env() as client:
        client.connect()
        print(f"Connected to {client.base_url}")
        print_templates(client)
        if config_prefix:
            print_configuration(client, config_prefix)

        project = choose_project(client.get_projects(), project_id)
        print(f"Using project {project.id}: {project.title}")

        started = datetime.now(UTC)
        session = create_session(client, project, template_id, started)
        upload_and_verify(client, session, started)

        client.close_session(session.id, CloseSessionRequest(reason="heat_upload_example finished"))
        print(f"Closed session {session.id}")
        print("Success")


def print_templates(client: HeatClient) -> None:
    templates = client.get_session_templates()
    print(f"{len(templates)} session template(s):")
    for template in templates:
        print(f"  template {template.id}: {template.name}")


def print_configuration(client: HeatClient, prefix: str) -> None:
    config = client.get_platform_configuration_by_prefix(prefix)
    print(f"{len(config)} configuration value(s) with prefix {prefix!r}:")
    for name, value in config.items():
        print(f"  {name} = {value!r}")


def create_session(
    client: HeatClient, project: ProjectInfo, template_id: int | None, started: datetime
) -> SessionInfo:
    session = client.create_session(
        project.id,
        CreateSessionRequest(
            name=f"heat_upload_example {started:%Y-%m-%d %H:%M:%S}",
            simulation_name="heat_upload_example",
            session_template_id=template_id,
            metadata={"source": "examples/heat_upload_example.py"},
        ),
    )
    print(
        f"Created session {session.id} with template {session.session_template_id} "
        f"and {len(session.node_instances)} node instance(s)"
    )
    return session


def upload_and_verify(client: HeatClient, session: SessionInfo, started: datetime) -> None:
    """Upload a small text to the session's ingestion node, then find it among its outputs."""
    node_id = session.ingestion_node_id
    if node_id is None:
        raise ExampleError(f"Session {session.id} has no node instances to upload to.")
    node_names = {node.id: node.name for node in session.node_instances}
    payload = f"Hello from heat_upload_example at {started.isoformat()}\n".encode()
    output = client.upload_node_output(node_id, payload, content_type="text/plain")
    print(
        f"Uploaded {output.size} bytes to node instance {node_id} ({node_names.get(node_id, '?')}) "
        f"as output {output.id} at {output.data_path}"
    )

    outputs = client.get_node_outputs(node_id)
    if not any(listed.id == output.id for listed in outputs):
        raise ExampleError(f"Output {output.id} is missing from node instance {node_id}'s outputs.")
    print(f"Verified: node instance {node_id} lists output {output.id} ({len(outputs)} output(s) in all)")


def main() -> int:
    try:
        run()
    except (HeatClientError, ExampleError) as error:
        print(f"heat_upload_example failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
