"""Demo data of sites_app, loaded by `manage.py seed_demo`."""


def seed_sites() -> list[str]:
    """Create what is missing; return one line per thing created."""
    return []
