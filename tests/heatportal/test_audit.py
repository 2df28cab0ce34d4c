"""The history of changes (heatportal/audit.py): every tracked kind of object, changed through
the portal's pages, the Django admin, an API and a management command, shows on the Changes
page with who made it and each field before and after; no secret ever reaches it."""

import json
import re
from html.parser import HTMLParser

from auditlog.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from crowd_app.models import CrowdAccount, CrowdApiKey
from heatportal.accounts.models import AccessToken, User
from heatportal.credentials import credential_issue
from scenarios_app.models import RunnerSession
from sessions_app.models import PlatformConfiguration, Project
from sites_app.models import AccessGroup, Site, SiteApiKey, SiteDeviceToken
from tests.factories import PASSWORD, AccessGroupFactory, SiteFactory, UserFactory
from tests.heatportal.helpers import changes_page, kind_of
from tests.sessions_app.factories import SessionTemplateFactory

SITE_KEY = re.compile(r"agk_[A-Za-z0-9]{12}\.ags_[A-Za-z0-9]{40}")
DEVICE_TOKEN = re.compile(r"hdt_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}")
ACCESS_TOKEN = re.compile(r"hat_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}")
CROWD_KEY = re.compile(r"\b(?:test_)?[0-9a-f]{32}\b")


def entries(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def last_entry(obj) -> LogEntry:
    return entries(obj)[-1]


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


# --- The Django admin ----------------------------------------------------------------------------


def test_changes_made_in_the_admin_name_the_signed_in_user(ada, portal_admin):
    user = UserFactory(username="bob", role=User.Role.TRAINEE)
    template = SessionTemplateFactory(name="Base")
    group = AccessGroupFactory(name="South")

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
    group = AccessGroupFactory(name="East")
    site = SiteFactory(access_group=group, name="Farm 9")
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
    secrets = password_secrets(portal_admin)
    secrets += credential_secrets(ada, capsys)
    secrets += webhook_secrets(ada)
    config, config_secrets = private_configuration_secrets(ada)
    secrets += config_secrets
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


def password_secrets(portal_admin: User) -> list[str]:
    """Users' passwords and their hashes (a user created by the command, then a new password)."""
    call_command("create_user", "erin", "--role", "Trainee", "--password", "erin-Passw0rd-long")
    erin = User.objects.get(username="erin")
    secrets = ["erin-Passw0rd-long", erin.password, PASSWORD, portal_admin.password]
    erin.set_password("another-Passw0rd-long")
    erin.save()
    return [*secrets, "another-Passw0rd-long", erin.password]


def credential_secrets(ada: Client, capsys) -> list[str]:
    """Every kind of credential, issued through pages, commands and services, as shown."""
    secrets: list[str] = []
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
    return secrets + ACCESS_TOKEN.findall(printed) + SITE_KEY.findall(printed) + CROWD_KEY.findall(printed)


def webhook_secrets(ada: Client) -> list[str]:
    """The webhook secret, shown on the crowd account's page, before and after a rotation."""
    ada.post(reverse("requests:account-create"), {"name": "acme"})
    account = CrowdAccount.objects.get(name="acme")
    secrets = [ada.get(reverse("requests:account", args=[account.pk])).context["webhook_secret"]]
    ada.post(reverse("requests:secret-rotate", args=[account.pk]), {"confirm": "yes"})
    secrets.append(ada.get(reverse("requests:account", args=[account.pk])).context["webhook_secret"])
    account.refresh_from_db()
    return [*secrets, account.webhook_secret_encrypted]


def private_configuration_secrets(ada: Client) -> tuple[PlatformConfiguration, list[str]]:
    """A private configuration value, created and changed: the row and both values."""
    ada.post(
        reverse("sessions:config-create"),
        {"name": "private:smtp", "value_type": 0, "value": "hunter2-smtp-password", "description": ""},
    )
    config = PlatformConfiguration.objects.get(name="private:smtp")
    ada.post(
        reverse("sessions:config-edit", args=[config.pk]),
        {"name": "private:smtp", "value_type": 0, "value": "hunter3-smtp-password", "description": ""},
    )
    return config, ["hunter2-smtp-password", "hunter3-smtp-password"]


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


def test_session_tokens_of_a_sign_in_are_not_recorded(db):
    user = UserFactory(username="signer")
    response = APIClient().post(
        "/auth/login", {"username": "signer", "password": PASSWORD, "rememberMe": True}, format="json"
    )
    assert response.status_code == 200, response.content

    assert not LogEntry.objects.filter(content_type__model__in=["accesstoken", "refreshtoken"]).exists()
    last_login_written = LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.UPDATE)
    assert not last_login_written.exists()
