import pytest

from scenarios_app.demo import seed_scenarios
from scenarios_app.models import RunnerSession, Scenario

pytestmark = pytest.mark.django_db


def test_demo_seed_is_complete_and_idempotent():
    first = seed_scenarios()
    second = seed_scenarios()

    assert first and second == []
    assert set(RunnerSession.objects.values_list("display_name", flat=True)) == {"main", "what-if more PV"}
    lp = Scenario.objects.get(tag="peak-shaving-200kwh")
    assert lp.status == "complete" and lp.kpi_values["peak_import_kw"] < 100
    assert Scenario.objects.get(tag="slow-5s").status == "created"
