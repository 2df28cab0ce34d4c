"""Demo data of the v2 API: the documents' two templates, a data source, a project, settings."""

from heatportal.accounts.models import User
from sessions_app.models import DataSource, NodeTemplate, PlatformConfiguration, Project, SessionTemplate

DEMO_CONFIG = [
    ("public_api_v1:SendGridSettings", 4, '{"fromAddress": "noreply@example.org"}', "Mail delivery"),
    (
        "public_api_v1:ContactSupportSettings",
        4,
        '{"email": "support@example.org"}',
        "Where users ask for help",
    ),
    ("public_api_v1:MaxUploadMegabytes", 2, "5120", "Largest node output accepted"),
    ("internal:MaintenanceMode", 1, "false", "Admins only"),
]


def seed_sessions() -> list[str]:
    lines = []
    raw, created = DataSource.objects.get_or_create(name="raw", defaults={"description": "Raw uploads"})
    if created:
        lines.append("created data source raw")
    default, created = SessionTemplate.objects.get_or_create(
        name="Default Template", defaults={"description": "Base template for sessions", "configuration": "{}"}
    )
    if created:
        source = NodeTemplate.objects.create(
            session_template=default,
            key="json-input",
            type=NodeTemplate.INPUT_TYPE,
            label="JsonInput Node",
            configuration={"dataSourceName": raw.name},
            position=0,
        )
        preprocess = NodeTemplate.objects.create(
            session_template=default,
            key="preprocess",
            type="Preprocessor",
            label="Preprocessing Node",
            position=1,
        )
        preprocess.inputs.add(source)
        lines.append("created template Default Template")
    _advanced, created = SessionTemplate.objects.get_or_create(
        name="Advanced Template",
        defaults={"description": "Includes extended configurations", "configuration": '{"maxNodes": 10}'},
    )
    if created:
        lines.append("created template Advanced Template")
    owner = User.objects.filter(username="instructor").first() or User.objects.order_by("pk").first()
    if owner and not Project.objects.filter(title="Sample Project").exists():
        Project.objects.create(
            title="Sample Project",
            description="Project for testing",
            owner=owner,
            default_session_template=default,
        )
        lines.append("created project Sample Project")
    for name, value_type, value, description in DEMO_CONFIG:
        _config, created = PlatformConfiguration.objects.get_or_create(
            name=name, defaults={"value_type": value_type, "value": value, "description": description}
        )
        if created:
            lines.append(f"created configuration {name}")
    return lines
