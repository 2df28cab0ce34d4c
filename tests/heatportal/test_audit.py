"""The history of changes (heatportal/audit.py): every tracked kind of object, changed through
the portal's pages, the Django admin, an API and a management command, shows on the Changes
page with who made it and each field before and after; no secret ever reaches it."""

import json
import re
import uuid
from html.parser import HTMLParser

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from crowd_app.models import CrowdAccount, CrowdApiKey
from heatportal.accounts.models import AccessToken, User
from heatportal.credentials import credential_issue
from scenarios_app.models import RunnerSession
from sessions_app.models import PlatformConfiguration, Project, SessionTemplate
from sites_app.models import AccessGroup, Site, SiteApiKey, SiteDeviceToken
from tests.factories import PASSWORD, UserFactory

SITE_KEY = re.compile(r"agk_[A-Za-z0-9]{12}\.ags_[A-Za-z0-9]{40}")
DEVICE_TOKEN = re.compile(r"hdt_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}")
ACCESS_TOKEN = re.compile(r"hat_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}")
CROWD_KEY = re.compile(r"\b(?:test_)?[0-9a-f]{32}\b")


@pytest.fixture
def portal_admin(db) -> User:
    return UserFactory(username="ada", role=User.Role.ADMIN, is_staff=True)


@pytest.fixture
def ada(portal_admin) -> Client:
    client = Client()
    client.force_login(portal_admin)
    return client


def entries(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def last_entry(obj) -> LogEntry:
    return entries(obj)[-1]


def changes_page(client: Client, **filters) -> str:
    response = client.get(reverse("changes"), filters)
    assert response.status_code == 200
    return response.content.decode()


def kind_of(model) -> int:
    return ContentType.objects.get_for_model(model).pk


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return client


class _FormFields(HTMLParser):
    """The fields of the page's form whose id is ``form_id``, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(
                attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")
            )
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                self.data[self._textarea][0] = self.data[self._textarea][0].removeprefix("\n")
            self._textarea = None


def admin_save(client: Client, url: str, **changed: str) -> None:
    """Submit the admin's change form at ``url`` as it is, with ``changed`` fields."""
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    data = {name: values for name, values in parser.data.items()}
    data.update({name: [value] for name, value in changed.items()})
    data["_save"] = ["Save"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]


# --- The portal's pages --------------------------------------------------------------------------


def test_changes_made_on_the_portal_pages_name_the_signed_in_user(ada, portal_admin):
    ada.post(reverse("sites:index"), {"name": "North"})
    group = AccessGroup.objects.get(name="North")
    ada.post(reverse("sites:site-create", args=[group.pk]), {"site-name": "Farm 1"})
    site = Site.objects.get(name="Farm 1")
    old_token = SiteDeviceToken.objects.get(site=site)
    ada.post(reverse("sites:token-rotate", args=[site.pk]))
    ada.post(reverse("sites:key-create", args=[group.pk]), {"key-name": "dashboard"})
    key = SiteApiKey.objects.get(name="dashboard")
    ada.post(reverse("sites:key-revoke", args=[group.pk, key.pk]), {"confirm": "yes"})
    ada.post(reverse("requests:account-create"), {"name": "acme"})
    account = CrowdAccount.objects.get(name="acme")
    ada.post(reverse("requests:secret-rotate", args=[account.pk]), {"confirm": "yes"})
    ada.post(reverse("account:tokens"), {"name": "build server"})
    token = AccessToken.objects.get(name="build server")
    ada.post(reverse("account:token-revoke", args=[token.pk]), {"confirm": "yes"})
    ada.post(
        reverse("sessions:config-create"),
        {"name": "public_api_v1:Epochs", "value_type": 2, "value": "50", "description": ""},
    )
    config = PlatformConfiguration.objects.get(name="public_api_v1:Epochs")
    ada.post(
        reverse("sessions:config-edit", args=[config.pk]),
        {"name": "public_api_v1:Epochs", "value_type": 2, "value": "60", "description": ""},
    )
    ada.post(reverse("scenarios:index"), {"display_name": "study"})
    runner = RunnerSession.objects.get(display_name="study")
    ada.post(reverse("scenarios:session-action", args=[runner.pk, "rename"]), {"display_name": "study 2"})

    for obj in (group, site, old_token, key, account, token, config, runner):
        entry = last_entry(obj)
        assert entry.actor == portal_admin, obj
        assert entry.additional_data["via"] == "page", obj
        assert entry.cid, obj  # the request id
    assert last_entry(old_token).changes["revoked_at"][0] == "None"  # rotation revoked the old token
    assert last_entry(key).changes["revoked_at"][0] == "None"
    assert "webhook_secret_rotated_at" in last_entry(account).changes
    assert last_entry(token).changes["revoked_at"][0] == "None"
    assert last_entry(config).changes["value"] == ["50", "60"]
    assert last_entry(runner).changes["display_name"] == ["study", "study 2"]

    page = changes_page(ada)
    assert "ada" in page and "page" in page
    assert "<del>study</del> → <ins>study 2</ins>" in page
    assert "<del>50</del> → <ins>60</ins>" in page
    assert f'href="{reverse("scenarios:session", args=[runner.pk])}"' in page  # it still exists


def test_the_object_pages_show_their_history_to_administrators(ada, portal_admin):
    ada.post(reverse("scenarios:index"), {"display_name": "study"})
    runner = RunnerSession.objects.get(display_name="study")
    ada.post(reverse("scenarios:session-action", args=[runner.pk, "rename"]), {"display_name": "study 2"})

    page = ada.get(reverse("scenarios:session", args=[runner.pk])).content.decode()

    assert 'id="history-heading"' in page
    assert "<del>study</del> → <ins>study 2</ins>" in page
    trainee = Client()
    trainee.force_login(UserFactory())
    assert (
        'id="history-heading"'
        not in trainee.get(reverse("scenarios:session", args=[runner.pk])).content.decode()
    )


# --- The Django admin ----------------------------------------------------------------------------


def test_changes_made_in_the_admin_name_the_signed_in_user(ada, portal_admin):
    user = UserFactory(username="bob", role=User.Role.TRAINEE)
    template = SessionTemplate.objects.create(name="Base")
    group = AccessGroup.objects.create(name="South")

    admin_save(ada, reverse("admin:sessions_app_sessiontemplate_change", args=[template.pk]), name="Base v2")
    admin_save(ada, reverse("admin:sites_app_accessgroup_change", args=[group.pk]), name="South-East")
    admin_save(ada, reverse("admin:accounts_user_change", args=[user.pk]), role="Instructor")

    assert last_entry(template).changes["name"] == ["Base", "Base v2"]
    assert last_entry(group).changes["name"] == ["South", "South-East"]
    assert last_entry(user).changes["role"] == ["Trainee", "Instructor"]
    for obj in (template, group, user):
        assert last_entry(obj).actor == portal_admin
        assert last_entry(obj).additional_data["via"] == "admin"
    page = changes_page(ada, kind=kind_of(User))
    assert "<del>Trainee</del> → <ins>Instructor</ins>" in page
    assert "admin" in page


# --- The APIs ------------------------------------------------------------------------------------


def test_changes_made_through_an_api_name_the_user_and_the_credential(ada, db):
    instructor = UserFactory(username="ivy", role=User.Role.INSTRUCTOR)
    token, value = credential_issue(AccessToken, user=instructor, name="ci", is_offline=True)
    _admin_token, admin_value = credential_issue(
        AccessToken, user=UserFactory(username="root2", role=User.Role.ADMIN), name="ops", is_offline=True
    )

    created = bearer(value).post(
        "/api/v2/projects", {"Title": "Wind study", "Description": ""}, format="json"
    )
    assert created.status_code in (200, 201), created.content
    config = bearer(admin_value).post(
        "/api/v2/config", {"name": "public_api_v1:Lr", "valueType": 3, "value": "0.1"}, format="json"
    )
    assert config.status_code == 201, config.content
    runner = bearer(value).post("/api/v1/sessions", {"display_name": "api study"}, format="json")
    assert runner.status_code in (200, 201), runner.content
    runner_session = RunnerSession.objects.get(display_name="api study")
    deleted = bearer(value).delete(f"/api/v1/sessions/{runner_session.pk}")
    assert deleted.status_code in (200, 204), deleted.content

    project = Project.objects.get(title="Wind study")
    entry = last_entry(project)
    assert entry.actor == instructor
    assert entry.additional_data == {
        "via": "api",
        "credential": token.masked,
        "credential_type": "access token",
    }
    assert entry.changes["title"] == ["None", "Wind study"]
    assert last_entry(PlatformConfiguration.objects.get(name="public_api_v1:Lr")).actor.username == "root2"
    page = changes_page(ada, q="Wind study")
    assert f"ivy with {token.masked}" in page
    page = changes_page(ada, kind=kind_of(RunnerSession), action=LogEntry.Action.DELETE)
    assert "api study" in page and "deleted" in page


def test_a_site_api_key_or_device_token_is_named_when_no_user_stands_behind_it(ada, db):
    group = AccessGroup.objects.create(name="East")
    site = Site.objects.create(access_group=group, name="Farm 9")
    key, _value = credential_issue(SiteApiKey, access_group=group, name="integration")
    LogEntry.objects.all().delete()
    client = APIClient()
    request = client.get("/api/v1/public/sites", HTTP_AUTHORIZATION=f"Bearer {_value}")
    assert request.status_code == 200

    # Reading changes nothing, and the key's last use is no change by anyone.
    assert LogEntry.objects.count() == 0
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert site.name == "Farm 9"


def test_an_api_request_id_sent_by_the_client_is_kept(db):
    user = UserFactory(role=User.Role.INSTRUCTOR)
    _token, value = credential_issue(AccessToken, user=user, name="ci", is_offline=True)

    bearer(value).post("/api/v2/projects", {"Title": "Traced"}, format="json", HTTP_X_REQUEST_ID="req-42")
    bearer(value).post("/api/v2/projects", {"Title": "Untraced"}, format="json", HTTP_X_REQUEST_ID="<bad id>")

    assert last_entry(Project.objects.get(title="Traced")).cid == "req-42"
    assert re.fullmatch(r"[0-9a-f]{32}", last_entry(Project.objects.get(title="Untraced")).cid)


# --- Management commands -------------------------------------------------------------------------


def test_changes_made_by_a_command_name_the_command(ada, db):
    call_command("create_user", "carol", "--role", "Instructor", "--password", "s3cret-pass-Phrase!")
    call_command("create_site", "--group", "West", "--name", "Farm 3")
    call_command("create_site_api_key", "--group", "West", "--name", "cli")
    call_command("issue_token", "carol", "--offline")
    owner = UserFactory(username="dora")
    call_command("create_crowd_api_key", owner.username)

    carol = User.objects.get(username="carol")
    created = [
        carol,
        AccessGroup.objects.get(name="West"),
        Site.objects.get(name="Farm 3"),
        SiteApiKey.objects.get(name="cli"),
        AccessToken.objects.get(user=carol),
        CrowdApiKey.objects.get(account__owner=owner),
    ]
    for obj in created:
        entry = entries(obj)[0]
        assert entry.action == LogEntry.Action.CREATE, obj
        assert entry.actor is None, obj
        assert entry.additional_data["via"] == "command", obj
    assert entries(carol)[0].additional_data["command"] == "create_user"
    assert entries(carol)[0].changes["role"] == ["None", "Instructor"]
    page = changes_page(ada, actor="command create_user")
    assert "command create_user" in page and "carol" in page and "<ins>Instructor</ins>" in page
    assert "Farm 3" not in page  # made by another command


# --- Secrets, deletion, access -------------------------------------------------------------------


def test_no_secret_reaches_the_history(ada, portal_admin, capsys):
    secrets: list[str] = []
    # Users' passwords and their hashes.
    call_command("create_user", "erin", "--role", "Trainee", "--password", "erin-Passw0rd-long")
    erin = User.objects.get(username="erin")
    secrets += ["erin-Passw0rd-long", erin.password, PASSWORD, portal_admin.password]
    erin.set_password("another-Passw0rd-long")
    erin.save()
    secrets += ["another-Passw0rd-long", erin.password]
    # Every kind of credential, issued through pages, commands and services.
    ada.post(reverse("sites:index"), {"name": "Vault"})
    group = AccessGroup.objects.get(name="Vault")
    response = ada.post(reverse("sites:key-create", args=[group.pk]), {"key-name": "k"}, follow=True)
    secrets += SITE_KEY.findall(response.content.decode())
    response = ada.post(reverse("sites:site-create", args=[group.pk]), {"site-name": "S"}, follow=True)
    secrets += DEVICE_TOKEN.findall(response.content.decode())
    response = ada.post(reverse("account:tokens"), {"name": "laptop"})
    secrets += ACCESS_TOKEN.findall(response.content.decode())
    call_command("issue_token", "erin")
    call_command("create_site_api_key", "--group", "Vault", "--name", "cli")
    call_command("create_crowd_api_key", "erin", "--test")
    printed = capsys.readouterr().out
    secrets += ACCESS_TOKEN.findall(printed) + SITE_KEY.findall(printed) + CROWD_KEY.findall(printed)
    # The webhook secret, shown on the crowd account's page, before and after a rotation.
    ada.post(reverse("requests:account-create"), {"name": "acme"})
    account = CrowdAccount.objects.get(name="acme")
    secrets.append(ada.get(reverse("requests:account", args=[account.pk])).context["webhook_secret"])
    ada.post(reverse("requests:secret-rotate", args=[account.pk]), {"confirm": "yes"})
    secrets.append(ada.get(reverse("requests:account", args=[account.pk])).context["webhook_secret"])
    account.refresh_from_db()
    secrets.append(account.webhook_secret_encrypted)
    # A private configuration value, created and changed.
    ada.post(
        reverse("sessions:config-create"),
        {"name": "private:smtp", "value_type": 0, "value": "hunter2-smtp-password", "description": ""},
    )
    config = PlatformConfiguration.objects.get(name="private:smtp")
    ada.post(
        reverse("sessions:config-edit", args=[config.pk]),
        {"name": "private:smtp", "value_type": 0, "value": "hunter3-smtp-password", "description": ""},
    )
    secrets += ["hunter2-smtp-password", "hunter3-smtp-password"]
    # The secret halves and their stored hashes.
    for model in (AccessToken, SiteApiKey, SiteDeviceToken, CrowdApiKey):
        secrets += list(model.objects.values_list("secret_hash", flat=True))

    for kind in (SITE_KEY, DEVICE_TOKEN, ACCESS_TOKEN, CROWD_KEY):  # every kind was issued and seen
        assert any(kind.fullmatch(secret) for secret in secrets), kind
    assert len(LogEntry.objects.get_for_object(config)) == 2
    rows = LogEntry.objects.values_list(
        "changes", "changes_text", "additional_data", "object_repr", "serialized_data", "cid"
    )
    history = " ".join(json.dumps(row) for row in rows)
    found = [secret for secret in secrets if secret and secret in history]
    assert found == []
    assert last_entry(config).changes["value"] == ["(hidden)", "(hidden)"]


def test_a_deleted_objects_history_stays(ada, portal_admin):
    ada.post(reverse("scenarios:index"), {"display_name": "short-lived"})
    runner = RunnerSession.objects.get(display_name="short-lived")
    runner_pk = runner.pk
    ada.post(reverse("scenarios:session-action", args=[runner.pk, "delete"]), {"confirm": "yes"})

    assert not RunnerSession.objects.filter(pk=runner_pk).exists()
    kept = LogEntry.objects.filter(content_type__model="runnersession", object_pk=str(runner_pk))
    assert [entry.action for entry in kept.order_by("timestamp", "pk")] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.DELETE,
    ]
    page = changes_page(ada, q="short-lived")
    assert "deleted" in page and "short-lived" in page
    assert f'href="{reverse("scenarios:session", args=[runner_pk])}"' not in page  # nothing to link to


def test_the_changes_page_is_for_administrators_only(db):
    trainee = Client()
    trainee.force_login(UserFactory(role=User.Role.TRAINEE))
    staff_instructor = Client()
    staff_instructor.force_login(UserFactory(role=User.Role.INSTRUCTOR, is_staff=True))

    refused = trainee.get(reverse("changes"))
    assert refused.status_code == 403
    assert "Not allowed" in refused.content.decode() and "Only Admin may do this." in refused.content.decode()
    assert staff_instructor.get(reverse("changes")).status_code == 403
    assert Client().get(reverse("changes")).status_code == 302  # to the sign-in page


def test_the_navigation_links_the_changes_page_for_administrators_only(ada, db):
    trainee = Client()
    trainee.force_login(UserFactory())

    assert f'href="{reverse("changes")}"' in ada.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("changes")}"' not in trainee.get(reverse("dashboard")).content.decode()


def test_the_changes_page_filters_and_pages(ada, portal_admin):
    other = AccessGroup.objects.create(name="other")
    for number in range(55):
        AccessGroup.objects.create(name=f"group {number:02d}")
    Site.objects.create(access_group=other, name="Only site")

    first = changes_page(ada)
    assert "Page 1 of 2" in first and "group 00" not in first  # newest first
    assert "group 00" in changes_page(ada, page=2)
    sites_only = changes_page(ada, kind=kind_of(Site))
    assert "Only site" in sites_only and "group 54" not in sites_only
    assert "group 54" not in changes_page(ada, action=LogEntry.Action.DELETE)
    assert "group 54" not in changes_page(ada, since="2000-01-01", until="2000-01-02")
    assert "group 54" in changes_page(ada, since="2000-01-01")
    assert "group 07" in changes_page(ada, q="group 07") and "group 08" not in changes_page(ada, q="group 07")
    assert "No changes match" in changes_page(ada, actor="nobody-" + uuid.uuid4().hex[:6])


def test_session_tokens_of_a_sign_in_are_not_recorded(db):
    user = UserFactory(username="signer")
    response = APIClient().post(
        "/auth/login", {"username": "signer", "password": PASSWORD, "rememberMe": True}, format="json"
    )
    assert response.status_code == 200, response.content

    assert not LogEntry.objects.filter(content_type__model__in=["accesstoken", "refreshtoken"]).exists()
    last_login_written = LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.UPDATE)
    assert not last_login_written.exists()


# --- In a real browser, on the production lanes --------------------------------------------------


@pytest.mark.browser
def test_the_changes_page_in_a_browser_shows_api_and_page_changes(sign_in, live_url):
    """The API lane runs no middleware (heatportal/lanes.py): the API view itself names the
    credential. The page change is the signed-in administrator's."""
    import httpx
    from playwright.sync_api import expect

    ivy = UserFactory(username="ivy", role=User.Role.INSTRUCTOR)
    token, value = credential_issue(AccessToken, user=ivy, name="ci", is_offline=True)
    created = httpx.post(
        f"{live_url}/api/v1/sessions",
        json={"display_name": "lane study"},
        headers={"Authorization": f"Bearer {value}", "X-Request-ID": "lane-1"},
    )
    assert created.status_code in (200, 201), created.text
    page = sign_in(UserFactory(username="ada", role=User.Role.ADMIN))
    runner = RunnerSession.objects.get(display_name="lane study")
    page.goto(f"/scenarios/s/{runner.pk}/")
    page.locator("input[name=display_name]").last.fill("lane study 2")
    page.get_by_role("button", name="Rename").click()

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Changes").click()

    rows = page.get_by_role("table", name="Changes").get_by_role("row")
    renamed = rows.filter(has_text="lane study 2").first
    expect(renamed).to_contain_text("ada")
    expect(renamed.locator("del")).to_have_text("lane study")
    expect(renamed.locator("ins")).to_have_text("lane study 2")
    created_row = rows.filter(has_text=f"ivy with {token.masked}")
    expect(created_row).to_contain_text("created")
    expect(created_row).to_contain_text("lane-1")
    assert value not in page.content()
