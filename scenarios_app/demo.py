"""Demo data of scenarios_app, loaded by `manage.py seed_demo`.

``main`` with ``Master data`` (CONTRACT §4), a created ``Slow`` scenario, and the two battery
dispatches computed here (deterministic, under a second) so that the portal shows KPIs and a
chart before any worker has run. A second session holds a derived dataset with more PV.
"""

from django.db import transaction

from scenarios_app import algorithms, datasets, kpis, services
from scenarios_app.models import Dataset, RunnerSession, Scenario

DEMO_SCENARIOS = [
    ("slow-5s", "Slow", {"duration": 5}, False),
    ("peak-shaving-200kwh", "PeakShavingLP", {"capacity_kwh": 200, "power_kw": 100}, True),
    ("self-consumption-200kwh", "SelfConsumption", {"capacity_kwh": 200, "power_kw": 100}, True),
]


def _complete(scenario: Scenario, session: RunnerSession) -> None:
    profile = algorithms.Profile.from_dataset(scenario.dataset.tables, scenario.data_params)
    result = algorithms.REGISTRY[scenario.algo_name].run(profile, scenario.algo_params, lambda progress: None)
    Scenario.objects.filter(pk=scenario.pk).update(
        status=Scenario.Status.COMPLETE,
        progress=1.0,
        result=result,
        kpi_values=kpis.compute_kpis(session.kpis, result),
        attempts=1,
    )


@transaction.atomic
def seed_scenarios() -> list[str]:
    """Create what is missing; return one line per thing created."""
    lines = []
    if services.session_ensure_default():
        lines.append("created runner session main with Master data")
    main = RunnerSession.objects.filter(display_name="main").first()
    if main is None:
        return lines
    if not Dataset.objects.filter(session=main, key=datasets.MASTER_DATA_KEY).exists():
        services.dataset_store(
            session=main,
            key=datasets.MASTER_DATA_KEY,
            schema=datasets.DEFAULT_SCHEMA,
            tables=datasets.master_tables(),
        )
        lines.append("created dataset Master data in main")
    for tag, algo_name, params, compute in DEMO_SCENARIOS:
        if Scenario.objects.filter(session=main, tag=tag).exists():
            continue
        scenario = services.scenario_create(
            session=main,
            tag=tag,
            dataset_key=datasets.MASTER_DATA_KEY,
            algo_name=algo_name,
            algo_params=params,
        )
        if compute:
            _complete(scenario, main)
        lines.append(f"created scenario {tag} in main")
    if not RunnerSession.objects.filter(display_name="what-if more PV").exists():
        study = services.session_create(display_name="what-if more PV")
        services.dataset_store(
            session=study,
            key=datasets.MASTER_DATA_KEY,
            schema=datasets.DEFAULT_SCHEMA,
            tables=datasets.master_tables(),
        )
        scenario = services.scenario_create(
            session=study,
            tag="peak-shaving-pv-x1.5",
            dataset_key=datasets.MASTER_DATA_KEY,
            algo_name="PeakShavingLP",
            data_params={"pv_scale": 1.5},
        )
        _complete(scenario, study)
        lines.append("created runner session 'what-if more PV'")
    return lines
