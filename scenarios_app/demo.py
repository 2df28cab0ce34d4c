"""Demo data of scenarios_app, loaded by `manage.py seed_demo`."""


def seed_scenarios() -> list[str]:
    """Create what is missing; return one line per thing created."""
    return []
