"""Python client for HEAT: sessions, uploads and discovery on the v2 API, with HEAT Auth.

from heat_client import CreateSessionRequest, HeatClient

with HeatClient.from_env() as client:
    project = client.get_projects()[0]
    session = client.create_session(project.id, CreateSessionRequest(name="Run 1"))
    client.upload_node_output(session.ingestion_node_id, "data.json")
"""

from heat_client._uploads import UploadData
from heat_client._version import __version__
from heat_client.client import HeatClient
from heat_client.config import HeatClientOptions
from heat_client.exceptions import (
    HeatApiException,
    HeatAuthenticationException,
    HeatClientConfigurationException,
    HeatClientError,
    HeatConnectionException,
)
from heat_client.models import (
    CloseSessionRequest,
    CreateSessionRequest,
    CreateSharedSessionRequest,
    NodeInstanceInfo,
    NodeOutputInfo,
    NodeTemplateInfo,
    ProjectInfo,
    SessionInfo,
    SessionTemplateInfo,
)

__all__ = [
    "CloseSessionRequest",
    "CreateSessionRequest",
    "CreateSharedSessionRequest",
    "HeatApiException",
    "HeatAuthenticationException",
    "HeatClient",
    "HeatClientConfigurationException",
    "HeatClientError",
    "HeatClientOptions",
    "HeatConnectionException",
    "NodeInstanceInfo",
    "NodeOutputInfo",
    "NodeTemplateInfo",
    "ProjectInfo",
    "SessionInfo",
    "SessionTemplateInfo",
    "UploadData",
    "__version__",
]
