"""Demo data of crowd_app, loaded by `manage.py seed_demo`."""


def seed_crowd() -> list[str]:
    """Create what is missing; return one line per thing created."""
    return []
