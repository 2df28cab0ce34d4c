"""POST /sessions/{sid}/data/from-site: a runner dataset from a site's measured history."""

from datetime import UTC, datetime, timedelta

import pytest

from scenarios_app import algorithms, services
from scenarios_app.models import Dataset
from scenarios_app.site_link import Price
from tests.scenarios_app.helpers import API, energy_site, history

START = datetime(2026, 6, 1, tzinfo=UTC)
URL = f"{API}/sessions/main/data/from-site"


def body(site, **fields):
    return {
        "new_key": "From site",
        "siteId": str(site.pk),
        "from": START.isoformat(),
        "to": (START + timedelta(hours=2)).isoformat(),
        **fields,
    }


def steady(site, steps=8, **kwargs):
    history(site, START, steps, load=lambda i, k: 10.0 * (k + 1) + i, pv=lambda i, k: float(k + 1), **kwargs)


@pytest.mark.django_db
def test_the_dataset_holds_the_15_minute_means_of_the_history(api, main):
    site = energy_site()
    steady(site)
    response = api.post(URL, body(site), format="json")
    assert response.status_code == 201, response.content
    assert "From site" in response.json()["keys"]
    dataset = Dataset.objects.get(session=main, key="From site")
    table = dataset.tables["profile"]
    assert table["columns"] == ["timestamp", "load_kw", "pv_kw", "price_eur_per_kwh"]
    # Step i: loads 10+i, 20+i, 30+i (mean 20+i); PV 1, 2, 3 (mean 2); the flat default price.
    assert table["rows"] == [
        [(START + timedelta(minutes=15 * i)).isoformat(), 20.0 + i, 2.0, 0.25] for i in range(8)
    ]
    assert dataset.parameters["parameter_defaults"] == {"power_kw": 100.0, "capacity_kwh": 500.0}
    assert dataset.parameters["source"]["siteId"] == str(site.pk)
    assert dataset.owner == api.user


@pytest.mark.django_db
def test_peak_shaving_runs_on_the_dataset_unchanged(main):
    site = energy_site()
    steady(site)
    dataset = services.dataset_create_from_site(
        session=main, new_key="d", site_id=site.pk, start=START, end=START + timedelta(hours=2)
    )
    profile = algorithms.Profile.from_dataset(dataset.tables, {})
    params = {
        parameter.name: parameter.default for parameter in algorithms.REGISTRY["PeakShavingLP"].parameters
    }
    result = algorithms.REGISTRY["PeakShavingLP"].run(profile, params, lambda progress: None)
    assert profile.step_hours == 0.25
    assert len(result["series"]["battery_kw"]) == 8


@pytest.mark.django_db
def test_a_price_series_holds_from_each_point_on(main):
    site = energy_site()
    steady(site)
    prices = [Price(START + timedelta(hours=1), 0.4), Price(START, 0.1)]
    dataset = services.dataset_create_from_site(
        session=main, new_key="d", site_id=site.pk, start=START, end=START + timedelta(hours=2), prices=prices
    )
    assert [row[3] for row in dataset.tables["profile"]["rows"]] == [0.1] * 4 + [0.4] * 4


@pytest.mark.django_db
def test_a_few_missing_steps_are_filled_from_the_previous_one(main):
    site = energy_site()
    history(site, START, 20, load=lambda i, k: float(i), pv=lambda i, k: 0.0, skip={5, 6})
    dataset = services.dataset_create_from_site(
        session=main, new_key="d", site_id=site.pk, start=START, end=START + timedelta(hours=5)
    )
    loads = [row[1] for row in dataset.tables["profile"]["rows"]]
    assert loads[4:8] == [4.0, 4.0, 4.0, 7.0]
    assert dataset.parameters["source"]["missingSteps"] == 2


@pytest.mark.django_db
def test_too_little_data_is_400_naming_the_share_and_the_threshold(api, main):
    site = energy_site()
    steady(site, steps=4)  # 4 of the 8 steps
    response = api.post(URL, body(site), format="json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "4 of the 8 15-minute steps" in detail
    assert "(50%)" in detail
    assert "at most 10% may be missing" in detail
    assert not Dataset.objects.filter(key="From site").exists()


@pytest.mark.django_db
def test_a_site_without_solar_has_no_pv(main):
    site = energy_site(solar=False, bess=False)
    history(site, START, 4, load=lambda i, k: 5.0, pv=lambda i, k: None)
    dataset = services.dataset_create_from_site(
        session=main, new_key="d", site_id=site.pk, start=START, end=START + timedelta(hours=1)
    )
    assert {row[2] for row in dataset.tables["profile"]["rows"]} == {0.0}
    assert dataset.parameters["parameter_defaults"] == {}


@pytest.mark.django_db
def test_an_unknown_site_is_404(api, main):
    site = energy_site()
    response = api.post(URL, {**body(site), "siteId": "00000000-0000-0000-0000-000000000000"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Site '00000000-0000-0000-0000-000000000000' not found."}


@pytest.mark.django_db
def test_a_taken_key_is_409_as_derive_answers(api, main):
    site = energy_site()
    steady(site)
    response = api.post(URL, body(site, new_key="Master data"), format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Dataset 'Master data' already exists."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to": START.isoformat()}, "'to' must be after 'from'."),
        ({"to": (START + timedelta(days=93)).isoformat()}, "A range of at most 92 days may be read at once."),
    ],
)
def test_a_bad_range_is_400(api, main, fields, message):
    site = energy_site()
    response = api.post(URL, body(site, **fields), format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": message}


@pytest.mark.django_db
def test_a_site_without_load_is_400(api, main):
    site = energy_site(load=False, name="No load")
    response = api.post(URL, body(site), format="json")
    assert response.status_code == 400
    assert "no load asset" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields", [{"siteId": "nope"}, {"from": "2026-06-01T00:00:00"}, {"prices": [{"t": "x", "value": 1}]}]
)
def test_a_malformed_body_is_422(api, main, fields):
    site = energy_site()
    response = api.post(URL, body(site, **fields), format="json")
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


@pytest.mark.django_db
def test_an_unknown_session_is_404(api):
    site = energy_site()
    response = api.post(f"{API}/sessions/nope/data/from-site", body(site), format="json")
    assert response.status_code == 404
