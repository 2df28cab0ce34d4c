"""Services of the sites area: keys, sites, device tokens, schedule batches and their audit."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from heatportal.credentials import InvalidCredential, credential_authenticate
from sites_app import services
from sites_app.api.outputs import format_time
from sites_app.models import (
    AccessGroup,
    Asset,
    ScheduleEntry,
    Site,
    SiteApiKey,
    SiteDeviceToken,
    TelemetryReport,
)
from tests.sites_app.helpers import doc_schedules

# --- Access groups ----------------------------------------------------------------------------


def test_an_access_group_needs_a_unique_name(db):
    group = services.access_group_create(name="  Utility A ")

    assert group.name == "Utility A"
    with pytest.raises(services.ServiceError, match="needs a name"):
        services.access_group_create(name="   ")
    with pytest.raises(services.ServiceError, match="named 'Utility A' already exists"):
        services.access_group_create(name="Utility A")


def test_get_or_create_finds_a_group_by_its_trimmed_name_or_creates_it(group):
    assert services.access_group_get_or_create(name=" Utility A ") == (group, False)

    created, was_created = services.access_group_get_or_create(name="Utility C")

    assert was_created and created.name == "Utility C"
    assert AccessGroup.objects.count() == 2


# --- API keys ---------------------------------------------------------------------------------


def test_a_key_is_shown_once_and_stored_as_a_hash(group):
    key, value = services.api_key_create(access_group=group, name="ops")

    assert value.startswith(f"agk_{key.lookup_id}.ags_")
    assert value.split(".ags_")[1] not in key.secret_hash
    assert credential_authenticate(SiteApiKey.objects.all(), value) == key


def test_key_names_are_unique_within_a_group_only(group, other_group):
    services.api_key_create(access_group=group, name="ops")

    with pytest.raises(services.ServiceError, match="already has a key named 'ops'"):
        services.api_key_create(access_group=group, name="ops")
    services.api_key_create(access_group=other_group, name="ops")


def test_a_group_has_at_most_20_active_keys(group):
    for index in range(20):
        services.api_key_create(access_group=group, name=f"key {index}")

    with pytest.raises(services.ServiceError, match="20 active keys"):
        services.api_key_create(access_group=group, name="one too many")


def test_revoked_and_expired_keys_do_not_count_against_the_limit(group):
    keys = [services.api_key_create(access_group=group, name=f"key {i}")[0] for i in range(20)]
    services.api_key_revoke(api_key=keys[0])
    SiteApiKey.objects.filter(pk=keys[1].pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    services.api_key_create(access_group=group, name="new 1")
    services.api_key_create(access_group=group, name="new 2")
    with pytest.raises(services.ServiceError):
        services.api_key_create(access_group=group, name="new 3")


def test_a_revoked_key_no_longer_authenticates(group):
    key, value = services.api_key_create(access_group=group, name="ops")

    services.api_key_revoke(api_key=key)

    key.refresh_from_db()
    assert key.revoked_at is not None
    with pytest.raises(InvalidCredential):
        credential_authenticate(SiteApiKey.objects.all(), value)


def test_a_key_cannot_expire_in_the_past(group):
    with pytest.raises(services.ServiceError, match="future"):
        services.api_key_create(
            access_group=group, name="old", expires_at=timezone.now() - timedelta(minutes=1)
        )


def test_the_database_refuses_duplicate_key_names(group):
    services.api_key_create(access_group=group, name="ops")
    with pytest.raises(IntegrityError), transaction.atomic():
        SiteApiKey.objects.create(
            access_group=group, name="ops", kind="site_api_key", lookup_id="x", secret_hash="y"
        )


# --- Sites and device tokens ---------------------------------------------------------------


def test_a_new_site_has_the_standard_assets_and_a_device_token(group):
    site, token = services.site_create(access_group=group, name="Harbour")

    assert sorted(Asset.objects.filter(site=site).values_list("type", flat=True)) == sorted(
        ["grid", "solar", "bess", "ev", "heatpump", "genset", "load"]
    )
    assert credential_authenticate(SiteDeviceToken.objects.all(), token).site == site


def test_saving_a_site_trims_its_name_and_renews_its_revision(site):
    before = site.revision
    site.name = "  Harbour "

    services.site_save(site=site)

    site.refresh_from_db()
    assert (site.name, site.revision != before) == ("Harbour", True)
    site.name = " "
    with pytest.raises(services.ServiceError, match="needs a name"):
        services.site_save(site=site)


def test_saving_or_deleting_an_asset_renews_its_sites_revision(site):
    asset = Asset.objects.get(site=site, type="grid")
    before = Site.objects.get(pk=site.pk).revision
    asset.rated_upper_kw = 400

    services.asset_save(asset=asset)

    saved = Site.objects.get(pk=site.pk).revision
    assert Asset.objects.get(pk=asset.pk).rated_upper_kw == 400
    assert saved != before
    services.asset_delete(asset=asset)
    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert Site.objects.get(pk=site.pk).revision != saved


def test_rotating_a_device_token_revokes_the_old_one(site, device_token):
    new = services.device_token_rotate(site=site)

    assert new != device_token
    assert SiteDeviceToken.objects.filter(site=site, revoked_at__isnull=True).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # the database allows one live token
        SiteDeviceToken.objects.create(site=site, kind="device_token", lookup_id="zz", secret_hash="h")


def test_asset_constraints_hold_in_the_database(site):
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(site=site, type="grid").update(rated_lower_kw=600)
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(site=site, type="solar").update(soc_pcnt=50)
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(site=site, type="bess").update(soc_pcnt=120)
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.create(site=site, type="grid", rated_upper_kw=1, rated_lower_kw=0)


def test_schedule_entry_constraints_hold_in_the_database(site):
    batch = services.schedule_batch_apply(site=site, commands=doc_schedules(), sent_by="test")
    entry = ScheduleEntry.objects.filter(batch=batch, kind="optimalSocPcnt").get()
    for change in ({"value": 150}, {"end_at": entry.start_at}, {"asset": "solar"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ScheduleEntry.objects.filter(pk=entry.pk).update(**change)


# --- Schedule batches and the audit trail -------------------------------------------------


def test_a_batch_records_its_key_and_what_it_replaced(group, site):
    key, _value = services.api_key_create(access_group=group, name="optimiser")
    first = services.schedule_batch_apply(site=site, commands=doc_schedules(), api_key=key)
    clear_solar = [{"asset": "solar", "type": "solarCurtailmentPcnt", "entries": []}]

    second = services.schedule_batch_apply(site=site, commands=clear_solar, api_key=key)

    assert second.sent_by == f"optimiser ({key.masked})"
    assert second.commands == clear_solar
    assert second.accepted == 0
    replaced = list(second.replaced_entries.all())
    assert [(e.asset, e.kind, e.batch_id) for e in replaced] == [("solar", "solarCurtailmentPcnt", first.id)]
    assert ScheduleEntry.objects.filter(site=site, superseded_by__isnull=True).count() == 5


def test_a_batch_renews_the_sites_revision(site):
    before = Site.objects.get(pk=site.pk).revision

    services.schedule_batch_apply(site=site, commands=doc_schedules(), sent_by="test")

    assert Site.objects.get(pk=site.pk).revision != before


def test_entries_that_have_ended_are_not_replaced(site):
    now = timezone.now()
    past = {
        "startAt": format_time(now - timedelta(hours=2)),
        "endAt": format_time(now - timedelta(hours=1)),
        "value": 1,
    }
    services.schedule_batch_apply(
        site=site, commands=[{"asset": "grid", "type": "activePowerkW", "entries": [past]}]
    )

    batch = services.schedule_batch_apply(site=site, commands=doc_schedules())

    assert batch.replaced_entries.count() == 0  # history stays as it was


# --- Telemetry ------------------------------------------------------------------------------


def test_telemetry_is_stored_unless_older_than_the_stored_report(site):
    now = timezone.now().replace(microsecond=0)
    report = {"reportedAt": format_time(now), "assets": {"bess": {"activePowerkW": -30, "soc": 75}}}

    result = services.telemetry_record(site=site, payload=report)

    assert (result.applied, result.reported_at) == (True, now)
    bess = Asset.objects.get(site=site, type="bess")
    assert (bess.active_power_kw, bess.soc_pcnt) == (-30, 75)
    older = {"reportedAt": format_time(now - timedelta(minutes=1)), "assets": {"bess": {"soc": 10}}}
    stale = services.telemetry_record(site=site, payload=older)
    assert (stale.applied, stale.reported_at) == (False, now)
    assert Asset.objects.get(site=site, type="bess").soc_pcnt == 75


def test_telemetry_naming_an_unknown_asset_changes_nothing(site):
    Asset.objects.filter(site=site, type="ev").delete()
    before = Site.objects.get(pk=site.pk).revision
    report = {
        "reportedAt": format_time(timezone.now()),
        "assets": {"grid": {"activePowerkW": 1}, "ev": {"activePowerkW": 2}},
    }

    with pytest.raises(services.ServiceError) as refused:
        services.telemetry_record(site=site, payload=report)

    assert [item["asset"] for item in refused.value.details] == ["ev"]
    assert Site.objects.get(pk=site.pk).revision == before
    assert Asset.objects.get(site=site, type="grid").active_power_kw is None


# --- Management commands --------------------------------------------------------------------


def test_create_site_api_key_prints_a_working_key(db):
    out = StringIO()

    call_command(
        "create_site_api_key", "--group", "Utility A", "--name", "ops", stdout=out, stderr=StringIO()
    )

    value = out.getvalue().strip()
    key = credential_authenticate(SiteApiKey.objects.all(), value)
    assert (key.access_group.name, key.name, key.expires_at) == ("Utility A", "ops", None)


def test_create_site_api_key_takes_an_expiry_and_refuses_duplicates(group):
    call_command(
        "create_site_api_key", "--group", group.name, "--name", "ops", "--expires-at", "2031-01-01T00:00:00Z",
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    assert SiteApiKey.objects.get(name="ops").expires_at.year == 2031

    with pytest.raises(CommandError, match="already has a key"):
        call_command(
            "create_site_api_key",
            "--group",
            group.name,
            "--name",
            "ops",
            stdout=StringIO(),
            stderr=StringIO(),
        )


def test_create_site_prints_the_site_id_and_a_working_device_token(db):
    out = StringIO()

    call_command("create_site", "--group", "Utility A", "--name", "Harbour", stdout=out, stderr=StringIO())

    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines())
    site = Site.objects.get(pk=lines["site id"].strip())
    assert site.name == "Harbour" and site.access_group == AccessGroup.objects.get(name="Utility A")
    assert credential_authenticate(SiteDeviceToken.objects.all(), lines["device token"].strip()).site == site
    assert site.assets.count() == 7


@pytest.mark.parametrize("command", ["create_site", "create_site_api_key"])
def test_the_site_commands_create_a_group_through_the_service(db, command):
    with pytest.raises(CommandError, match="An access group needs a name"):
        call_command(command, "--group", "  ", "--name", "x", stdout=StringIO(), stderr=StringIO())

    assert not AccessGroup.objects.exists()


# --- Demo data ------------------------------------------------------------------------------


def test_demo_data_is_complete_and_idempotent(db):
    from sites_app.api.views import site_detail_fresh
    from sites_app.demo import DOC_SITE_ID, seed_sites

    first = seed_sites()
    second = seed_sites()

    assert any(line.startswith("created API key demo") for line in first)
    assert second == []
    group = AccessGroup.objects.get(name="Demo utility")
    assert group.sites.count() == 3
    detail = site_detail_fresh(Site.objects.get(pk=DOC_SITE_ID))
    assert detail["isOnline"] is True
    assert len(detail["schedules"]) == 6
    newest = TelemetryReport.objects.filter(site_id=DOC_SITE_ID).latest("reported_at")
    assert detail["assets"]["bess"]["soc"] == newest.bess_soc_pcnt
