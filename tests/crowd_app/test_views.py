"""The crowd area's portal pages and the crunchers' work pages, with Django's test client
against the real views."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from crowd_app.models import CrowdAccount, CrowdAnswer, CrowdApiKey, Cruncher, TaskSkip
from crowd_app.services import crowd_account_create, crowd_api_key_create
from tests.crowd_app.helpers import new_request
from tests.factories import UserFactory


@pytest.fixture
def live_api_key(db):
    account = crowd_account_create(owner=UserFactory(), name="pages")
    return crowd_api_key_create(account=account)[0]


@pytest.fixture
def cruncher_client(db):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def take(client):
    """Press *Take next task*: the task page's URL (after the 303)."""
    response = client.post(reverse("requests:work"))
    assert response.status_code == 303
    return response["Location"]


def test_an_untouched_rating_slider_answers_nothing(cruncher_client, live_api_key):
    crowd_request = new_request(live_api_key, "rating", rating_min=0, rating_max=10)
    task_url = take(cruncher_client)

    page = cruncher_client.get(task_url).content.decode()
    [rating_input] = re.findall(r'<input[^>]*name="rating"[^>]*>', page)
    assert 'value=""' in rating_input and 'type="number"' in rating_input  # no default value
    assert not re.search(r'<input[^>]*type="range"[^>]*name=', page)  # the slider is not submitted

    for data in ({}, {"rating": ""}, {"rating": "  "}):
        response = cruncher_client.post(task_url, data)
        assert response.status_code == 200
        assert "Please choose a rating" in response.content.decode()
    assert not CrowdAnswer.objects.filter(request=crowd_request).exists()

    response = cruncher_client.post(task_url, {"rating": "0"})  # chosen explicitly: fine
    assert response.status_code == 303
    crowd_request.refresh_from_db()
    assert crowd_request.response == 0


def test_a_skipped_task_comes_back_only_when_nothing_else_is_left(cruncher_client, live_api_key):
    older = new_request(live_api_key, "free-text")
    newer = new_request(live_api_key, "free-text")
    first = take(cruncher_client)
    assert str(older.pk) in first

    assert cruncher_client.post(first, {"skip": "1"}).status_code == 303
    second = take(cruncher_client)
    assert str(newer.pk) in second  # not the task just skipped
    assert "You skipped this task before" not in cruncher_client.get(second).content.decode()
    cruncher_client.post(second, {"text": "done"})

    third = take(cruncher_client)  # only the skipped one is left: offered again, and said so
    assert str(older.pk) in third
    assert (
        "You skipped this task before; nothing else is waiting."
        in cruncher_client.get(third).content.decode()
    )
    cruncher_client.post(third, {"skip": "1"})  # skipping again keeps one record
    cruncher = Cruncher.objects.get(user=cruncher_client.user)
    assert TaskSkip.objects.filter(cruncher=cruncher).count() == 1


def test_two_skipped_tasks_alternate(cruncher_client, live_api_key):
    one = new_request(live_api_key, "free-text")
    two = new_request(live_api_key, "free-text")
    taken = []
    for _ in range(4):
        url = take(cruncher_client)
        taken.append(url.rstrip("/").rsplit("/", 1)[1])
        cruncher_client.post(url, {"skip": "1"})
    assert taken == [str(one.pk), str(two.pk), str(one.pk), str(two.pk)]


def test_the_work_page_shows_the_task_you_hold(cruncher_client, live_api_key):
    new_request(live_api_key, "free-text", instruction="Name the heat source")
    page = cruncher_client.get(reverse("requests:work")).content.decode()
    assert "Take next task" in page and "Continue this task" not in page

    task_url = take(cruncher_client)
    page = cruncher_client.get(reverse("requests:work")).content.decode()
    assert "Your current task" in page and "Name the heat source" in page
    assert f'href="{task_url}"' in page and "Continue this task" in page
    assert "Take next task" not in page


def test_answers_are_shown_as_text_not_python_values(cruncher_client, live_api_key, settings):
    settings.CROWD_PUBLIC_URL = "http://testserver"
    choice = new_request(
        live_api_key, "multiple-choice", choices=["heat pump", "boiler", "solar"], max_answers=0
    )
    marks = new_request(
        live_api_key,
        "annotations-with-rating",
        attachments=["a heat map"],
        per_annotation={"instruction": "How hot?", "rating_min": 0, "rating_max": 10},
    )
    take(cruncher_client)
    cruncher_client.post(f"/requests/work/{choice.pk}/", {"choice": ["heat pump", "solar"]})
    take(cruncher_client)
    answer = json.dumps([{"x": 2, "y": 3, "response": 7}, {"x": 10, "y": 20, "response": 4}])
    cruncher_client.post(f"/requests/work/{marks.pk}/", {"answer": answer})
    marks.refresh_from_db()
    assert marks.status == "complete"

    work = cruncher_client.get(reverse("requests:work")).content.decode()
    live_api_key.account.owner = cruncher_client.user
    live_api_key.account.save()
    pages = [
        work,
        cruncher_client.get(reverse("requests:request", args=[choice.pk])).content.decode(),
        cruncher_client.get(reverse("requests:request", args=[marks.pk])).content.decode(),
    ]
    for page in pages:
        answers = page.split("<details")[0]  # the Request object's JSON is exact, on purpose
        assert "[&#x27;" not in answers and "{&#x27;" not in answers and "&#x27;x&#x27;" not in answers
    assert "heat pump, solar" in pages[0] and "heat pump, solar" in pages[1]
    assert "<li>x: 2</li><li>y: 3</li><li>response: 7</li>" in pages[2]


def test_the_answer_filter(db):
    from crowd_app.templatetags.crowd_answers import crowd_answer

    assert crowd_answer(["heat pump"]) == "heat pump"
    assert crowd_answer(["a", "b<c"]) == "a, b&lt;c"
    assert crowd_answer(True) == "Yes" and crowd_answer(False) == "No"
    assert crowd_answer(35) == "35" and crowd_answer(2.5) == "2.5" and crowd_answer(3.0) == "3"
    assert crowd_answer({"x": 2, "ok": True}) == '<ul class="answer-lines"><li>x: 2</li><li>ok: Yes</li></ul>'
    assert crowd_answer(None) == '<span class="muted">none</span>'
    assert (
        crowd_answer("https://e.x/a.png")
        == '<a href="https://e.x/a.png" rel="noopener noreferrer">https://e.x/a.png</a>'
    )
    assert crowd_answer("javascript:alert(1)") == "javascript:alert(1)"  # text, never a link


def test_an_empty_free_text_answer_gets_human_words(cruncher_client, live_api_key):
    crowd_request = new_request(live_api_key, "free-text", validation="url")
    task_url = take(cruncher_client)

    response = cruncher_client.post(task_url, {"text": "   "})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please write an answer." in page and "response:" not in page
    response = cruncher_client.post(task_url, {"text": "not a link"})
    page = response.content.decode()
    assert "Please enter a web address starting with http:// or https://." in page
    assert 'value="not a link"' in page  # kept, to be corrected
    assert not CrowdAnswer.objects.filter(request=crowd_request).exists()


def test_creating_a_key_redirects_and_shows_it_once(db):
    owner = UserFactory()
    account = crowd_account_create(owner=owner, name="keys")
    client = Client()
    client.force_login(owner)
    url = reverse("requests:account", args=[account.pk])

    response = client.post(url, {"name": "ci", "test": "on"})
    [key] = CrowdApiKey.objects.filter(account=account)
    assert response.status_code == 303 and response["Location"] == f"{url}?created={key.pk}"
    carried = response.cookies["heat_new_secret"].value
    shown = client.get(response["Location"])
    value = re.search(r'id="created-key-value"[^>]*value="([^"]+)"', shown.content.decode()).group(1)
    assert CrowdApiKey.TEST.parse(value)[0] == key.lookup_id
    assert value not in carried and value not in json.dumps(dict(client.session.items()))  # encrypted
    assert "no-store" in shown["Cache-Control"]
    assert shown.cookies["heat_new_secret"].value == ""  # gone with the page that showed it

    again = client.get(response["Location"]).content.decode()  # a reload
    assert value not in again and "created-key-value" not in again
    assert CrowdApiKey.objects.filter(account=account).count() == 1


def test_creating_an_account_redirects(db):
    client = Client()
    client.force_login(UserFactory())
    response = client.post(reverse("requests:account-create"), {"name": "north"})
    assert response.status_code == 303
    assert response["Location"] == reverse(
        "requests:account", args=[CrowdAccount.objects.get(name="north").pk]
    )


def test_a_taken_account_name_is_refused_with_the_services_message(db):
    crowd_account_create(owner=UserFactory(), name="north")
    client = Client()
    client.force_login(UserFactory())

    response = client.post(reverse("requests:account-create"), {"name": "north"}, follow=True)

    assert "A crowd account named &#x27;north&#x27; exists already." in response.content.decode()
    assert CrowdAccount.objects.filter(name="north").count() == 1


def test_opening_the_work_page_writes_nothing_and_taking_a_task_makes_the_cruncher(
    cruncher_client, live_api_key
):
    page = cruncher_client.get(reverse("requests:work"))

    assert page.status_code == 200
    assert not Cruncher.objects.filter(user=cruncher_client.user).exists()
    assert "You get a cruncher id with the first task you take." in page.content.decode()

    new_request(live_api_key, "free-text")
    take(cruncher_client)
    cruncher = Cruncher.objects.get(user=cruncher_client.user)
    page = cruncher_client.get(reverse("requests:work"))
    assert cruncher.cruncher_id in page.content.decode()


def test_a_task_page_without_a_cruncher_sends_back_to_the_work_page(cruncher_client, live_api_key):
    crowd_request = new_request(live_api_key, "free-text")

    response = cruncher_client.get(reverse("requests:task", args=[crowd_request.pk]))

    assert response.status_code == 303
    assert response["Location"] == reverse("requests:work")
    assert not Cruncher.objects.filter(user=cruncher_client.user).exists()
