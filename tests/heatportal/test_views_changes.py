"""The history of changes on the portal's pages, through Django's test client: the Changes page
(who may see it, its filters and pages) and an object's history on its own page. What the history
records is tests/heatportal/test_audit.py's."""

import uuid

from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from heatportal.accounts.models import User
from scenarios_app.models import RunnerSession
from sites_app.models import Site
from tests.factories import AccessGroupFactory, SiteFactory, UserFactory
from tests.heatportal.helpers import changes_page, kind_of


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
    other = AccessGroupFactory(name="other")
    for number in range(55):
        AccessGroupFactory(name=f"group {number:02d}")
    SiteFactory(access_group=other, name="Only site")

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
