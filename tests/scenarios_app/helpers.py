"""Helpers of the scenario runner's tests (used by several test modules)."""

from datetime import timedelta

from scenarios_app import services
from scenarios_app.datasets import master_profile_rows
from scenarios_app.models import Scenario
from sites_app.models import Asset, TelemetryReport
from tests.factories import SiteFactory

API = "/api/v1"
HEADER = ["timestamp", "load_kw", "pv_kw", "price_eur_per_kwh"]


def create_scenario(api, sid="main", **body):
    payload = {"tag": "run", "dataset_key": "Master data", "algo_name": "Slow", **body}
    response = api.post(f"{API}/sessions/{sid}/scenarios", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def profile_csv(rows=None, header=HEADER) -> bytes:
    """A ``profile.csv`` upload: a day of ``Master data`` unless ``rows`` are given."""
    rows = rows if rows is not None else list(master_profile_rows(days=1))
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def energy_site(*, bess=True, solar=True, load=True, **fields):
    """A site with grid, solar, BESS (±100 kW, 500 kWh) and load assets (as asked)."""
    site = SiteFactory(**fields)
    Asset.objects.create(site=site, type="grid", rated_upper_kw=500, rated_lower_kw=-500)
    if solar:
        Asset.objects.create(site=site, type="solar", rated_upper_kw=200, rated_lower_kw=0)
    if bess:
        Asset.objects.create(
            site=site, type="bess", rated_upper_kw=100, rated_lower_kw=-100, energy_capacity_kwh=500
        )
    if load:
        Asset.objects.create(site=site, type="load", rated_upper_kw=400, rated_lower_kw=0)
    return site


def history(site, start, steps, *, load, pv, skip=(), per_step=3):
    """``per_step`` reports in each 15-minute step from ``start`` (5 minutes apart), step ``i``'s
    reports giving ``load(i, k)`` and ``pv(i, k)`` kW (k: the report's place in its step); the
    steps in ``skip`` have none."""
    rows = [
        TelemetryReport(
            site=site,
            reported_at=start + timedelta(minutes=15 * step + 5 * k),
            grid_kw=0.0,
            load_kw=load(step, k),
            solar_kw=pv(step, k),
        )
        for step in range(steps)
        if step not in skip
        for k in range(per_step)
    ]
    TelemetryReport.objects.bulk_create(rows)


# A dispatch with runs to merge: 10.0 and 10.04 round to one value.
DISPATCH = [10.0, 10.04, -20.0, -20.0, -20.0, 0.0, 0.0, 50.0]


def complete(main, battery_kw=DISPATCH, tag="done", status="complete"):
    """A scenario of ``main`` in ``status`` whose result is the battery dispatch ``battery_kw``
    (15-minute steps)."""
    scenario = services.scenario_create(session=main, tag=tag, dataset_key="Master data", algo_name="Slow")
    result = {
        "step_hours": 0.25,
        "timestamps": [],
        "series": {"battery_kw": battery_kw},
        "battery": {"capacity_kwh": 500, "power_kw": 100},
    }
    Scenario.objects.filter(pk=scenario.pk).update(status=status, result=result)
    scenario.refresh_from_db()
    return scenario
