"""Response bodies of the HEAT v2 API: plain functions, model → dict (camelCase, except the
documented snake_case answer of ``PATCH /sessions/{id}``). Datetimes are left as datetimes:
the renderer writes them in ISO 8601 with ``Z``, as the DRF serializers did.

``schema.py`` describes the same bodies for the OpenAPI document; keep the two in step.
"""

from __future__ import annotations

from typing import Any

from heatportal.accounts.models import User
from sessions_app.models import NodeOutput, PlatformConfiguration, Project, ScenarioInstance, SessionTemplate
from sessions_app.selectors import SessionDocument


def session_template(template: SessionTemplate) -> dict[str, Any]:
    """A template with its node graph (``nodes`` and their ``inputs`` prefetched)."""
    nodes = list(template.nodes.all())
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "configuration": template.configuration,
        "nodes": [
            {
                "id": node.pk,
                "key": node.key,
                "type": node.type,
                "label": node.label,
                "configuration": node.configuration,
            }
            for node in nodes
        ],
        "edges": [{"from": source.pk, "to": node.pk} for node in nodes for source in node.inputs.all()],
    }


def owner(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "type": user.role,
        "isActive": user.is_active,
        "createdAt": user.date_joined,
        "externalB2CId": None,
        "externalHEATId": user.username,
        "sessionUsers": [],
        "sessionDimensions": [],
    }


def _project(project: Project, default_template: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": project.pk,
        "hexId": project.hex_id,
        "title": project.title,
        "description": project.description,
        "icon": project.icon,
        "ownerId": project.owner_id,
        "owner": owner(project.owner),
        "defaultSessionTemplateId": project.default_session_template_id,
        "defaultSessionTemplate": default_template or {},
        "createdAt": project.created_at,
    }


def project(project: Project) -> dict[str, Any]:
    """A project of ``selectors.project_list()`` (owner and default template at hand)."""
    template = project.default_session_template
    return _project(project, session_template(template) if template else None)


def scenario_instance(instance: ScenarioInstance) -> dict[str, Any]:
    return {
        "id": instance.pk,
        "simulationId": instance.simulation_id,
        "sessionId": instance.session_id,
        "scenarioName": instance.scenario_name,
        "scenarioInstanceId": instance.scenario_instance_id,
        "dimensions": [],
        "createdAt": instance.created_at,
        "from": instance.start,
        "to": instance.end,
    }


def session(document: SessionDocument) -> dict[str, Any]:
    """A session as ``GET /sessions/{id}`` and the session-creating endpoints answer it."""
    row = document.session
    return {
        "id": row.pk,
        "name": row.name,
        "email": row.email,
        "projectId": row.project_id,
        "project": _project(row.project, document.default_template),
        "sessionTemplateId": row.session_template_id,
        "sessionTemplate": document.template,
        "simulationName": row.simulation_name,
        "scenarios": [
            {
                "id": pk,
                "simulationId": simulation_id,
                "sessionId": row.pk,
                "scenarioName": name,
                "scenarioInstanceId": instance_id,
                "dimensions": [],
                "createdAt": created_at,
                "from": start,
                "to": end,
            }
            for pk, simulation_id, name, instance_id, created_at, start, end in document.scenarios
        ],
        "dimensions": [],
        "logoUrl": row.logo_url,
        "userId": row.user_id,
        "metadata": row.metadata,
        "sessionUsers": [],
        "createdAt": row.created_at,
        "isShared": row.is_shared,
        "machineGroup": row.machine_group,
        "startTimeUtc": row.start_time_utc,
        "closedAt": row.closed_at,
        "nodeInstances": document.node_instances,
        "defaultIngestionNodeId": document.default_ingestion_node_id,
    }


def session_patch(document: SessionDocument) -> dict[str, Any]:
    """The documented snake_case answer of ``PATCH /sessions/{id}``."""
    row, project, template = document.session, document.session.project, document.template
    return {
        "id": row.pk,
        "name": row.name,
        "email": row.email,
        "simulation_name": row.simulation_name,
        "project_id": row.project_id,
        "project": {
            "id": project.pk,
            "hex_id": project.hex_id,
            "title": project.title,
            "description": project.description,
            "icon": project.icon,
            "owner_id": project.owner_id,
            "default_session_template_id": project.default_session_template_id,
            "created_at": project.created_at,
        },
        "session_template_id": row.session_template_id,
        "session_template": {key: template[key] for key in ("id", "name", "description", "configuration")},
        "metadata": row.metadata,
        "logo_url": row.logo_url,
        "node_instances": [
            {
                "id": node["id"],
                "name": node["name"],
                "type": node["type"],
                "node_template_id": node["nodeTemplateId"],
                "configuration": node["configuration"],
            }
            for node in document.node_instances
        ],
        "default_ingestion_node_id": document.default_ingestion_node_id,
        "session_users": [],
        "dimensions": [],
        "scenarios": [
            {"id": pk, "scenario_name": name, "scenario_instance_id": instance_id}
            for pk, _simulation_id, name, instance_id, *_moments in document.scenarios
        ],
        "created_at": row.created_at,
        "closed_at": row.closed_at,
    }


def node_output(output: NodeOutput) -> dict[str, Any]:
    """An output with its ``data_source`` at hand."""
    return {
        "id": output.pk,
        "nodeInstanceId": output.node_instance_id,
        "configuration": output.configuration,
        "createdAt": output.created_at,
        "dataSourceId": output.data_source_id,
        "dataSourceName": output.data_source.name,
        "dataPath": output.data_path,
        "outputIdentifier": output.output_identifier,
        "size": output.size,
        "sha256": output.sha256,
        "contentType": output.content_type,
        "filename": output.filename,
    }


def config(row: PlatformConfiguration) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "valueType": row.value_type,
        "value": row.value,
        "description": row.description,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


def user_data(user: User) -> dict[str, Any]:
    """Exactly the keys of document 000's example, in its PascalCase (CONTRACT §2)."""
    return {
        "UserId": user.uuid,
        "Username": user.username,
        "FirstName": user.first_name,
        "LastName": user.last_name,
        "Title": "",
        "Company": "",
        "Email": user.email,
        "Role": user.role,
        "CreatedAt": user.date_joined,
        "UpdatedAt": user.last_login,
        "ForceChangePasswordNextSignin": False,
        "IsRegistrationComplete": True,
        "HasAcceptedDataPrivacy": True,
        "IsActive": user.is_active,
    }
