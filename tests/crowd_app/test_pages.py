"""The crowd area's portal pages and the crunchers' work pages: in a real browser (marked
``browser``), and with Django's test client against the real views (the rest)."""

import json
import re

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from crowd_app.models import (
    CrowdAccount,
    CrowdAnswer,
    CrowdApiKey,
    CrowdRequest,
    Cruncher,
    TaskSkip,
    WebhookDelivery,
)
from crowd_app.services import crowd_account_create, crowd_api_key_create, request_create, webhook_secret_get
from tests.crowd_app.webhook_signatures import webhook_verified
from tests.factories import PASSWORD, UserFactory

SAMPLE_IMAGE = "/static/crowd_app/staging/sample.png"  # 320 x 240


@pytest.fixture
def live_key_obj(account):
    return crowd_api_key_create(account=account)[0]


def new_request(api_key, request_type, **body):
    return request_create(api_key=api_key, request_type=request_type, body={"instruction": "Do it", **body})


def take_next(page):
    page.goto("/requests/work/")
    page.get_by_role("button", name="Take next task").click()
    page.wait_for_url(re.compile(r"/requests/work/[0-9a-f-]{36}/$"))


def submit(page):
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_url(re.compile(r"/requests/work/$"))
    expect(page.get_by_text("Thank you, your answer is recorded.")).to_be_visible()


@pytest.mark.browser
def test_drawing_a_rectangle_with_its_per_annotation_answer(sign_in, live_url, live_key_obj):
    crowd_request = new_request(
        live_key_obj,
        "annotations-with-free-text",
        attachments_type="image",
        attachments=[live_url + SAMPLE_IMAGE],
        annotations_type="rectangle",
        per_annotation={"instruction": "What is in the box?"},
    )
    page = sign_in(UserFactory())
    take_next(page)
    overlay = page.get_by_test_id("overlay-0")
    page.wait_for_function("document.querySelector('img.attachment-image').naturalWidth > 0")
    box = overlay.bounding_box()
    assert round(box["width"]) == 320  # shown at natural size: page pixels are image pixels

    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 70, box["y"] + 60, steps=4)
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=4)
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"Annotation 1: x 20, y 30 to x 120, y 90"))).to_be_visible()
    expect(overlay.locator("rect.mark")).to_have_count(1)
    page.get_by_label("What is in the box? (annotation 1)").fill("a gradient")
    submit(page)

    crowd_request.refresh_from_db()
    assert crowd_request.status == "complete"
    assert crowd_request.response == [{"x": 20, "y": 30, "x2": 120, "y2": 90, "response": "a gradient"}]


@pytest.mark.browser
def test_points_with_a_rating_slider_per_annotation(sign_in, live_url, live_key_obj):
    crowd_request = new_request(
        live_key_obj,
        "annotations-with-rating",
        attachments_type="image",
        attachments=[live_url + SAMPLE_IMAGE],
        min_annotations=2,
        per_annotation={
            "instruction": "How aggressive?",
            "rating_min": 0,
            "rating_max": 10,
            "label_min": "calm",
            "label_max": "fierce",
        },
    )
    page = sign_in(UserFactory())
    take_next(page)
    page.wait_for_function("document.querySelector('img.attachment-image').naturalWidth > 0")
    box = page.get_by_test_id("overlay-0").bounding_box()
    page.mouse.click(box["x"] + 50, box["y"] + 40)
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("alert")).to_have_text("Mark at least 2.")  # min_annotations, before sending
    box = page.get_by_test_id("overlay-0").bounding_box()  # the page may have scrolled
    page.mouse.click(box["x"] + 200, box["y"] + 100)
    page.get_by_label("How aggressive? (annotation 2)").fill("7")
    expect(page.get_by_text("fierce").first).to_be_visible()
    page.get_by_role("button", name="Submit answer").click()
    # The first mark's slider was never touched: it does not answer 0 on its own.
    expect(page.get_by_role("alert")).to_have_text("Annotation 1: please choose a rating.")
    slider = page.get_by_label("How aggressive? slider (annotation 1)")
    slider.focus()
    slider.press("ArrowRight")  # a keyboard move of the slider: 0 -> 1
    expect(page.get_by_label("How aggressive? (annotation 1)")).to_have_value("1")
    expect(page.get_by_label("How aggressive? (annotation 2)")).to_have_value("7")  # kept
    submit(page)

    crowd_request.refresh_from_db()
    assert crowd_request.response == [{"x": 50, "y": 40, "response": 1}, {"x": 200, "y": 100, "response": 7}]


@pytest.mark.browser
def test_rating_slider_has_step_and_labels(sign_in, live_key_obj):
    crowd_request = new_request(
        live_key_obj,
        "rating",
        rating_min=0,
        rating_max=100,
        rating_step=5,
        label_min="young",
        label_max="old",
    )
    page = sign_in(UserFactory())
    take_next(page)
    slider = page.get_by_label("Rating slider")
    number = page.get_by_label("Rating", exact=True)
    assert slider.get_attribute("step") == "5" and number.get_attribute("step") == "5"
    expect(page.get_by_text("young")).to_be_visible()
    expect(page.get_by_text("old", exact=True)).to_be_visible()
    expect(number).to_have_value("")  # no default value

    page.get_by_role("button", name="Submit answer").click()  # the slider untouched
    expect(page.get_by_role("alert")).to_have_text(
        "Please choose a rating: move the slider or type a number."
    )
    assert CrowdAnswer.objects.count() == 0

    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.35, box["y"] + box["height"] / 2)  # a click on the track
    moved = int(number.input_value())
    assert 20 <= moved <= 50 and moved % 5 == 0
    slider.focus()
    for _ in range(20):
        slider.press("ArrowLeft")  # down to rating_min
    expect(number).to_have_value("0")
    for _ in range(7):
        slider.press("ArrowRight")
    expect(number).to_have_value("35")
    submit(page)

    crowd_request.refresh_from_db()
    assert crowd_request.response == 35


@pytest.mark.browser
def test_free_text_validation_and_choices_with_min_max(sign_in, live_key_obj):
    text_request = new_request(
        live_key_obj, "free-text", validation="number", attachments=["dial:+1212123456@ww1234"]
    )
    choice_request = new_request(
        live_key_obj, "multiple-choice", choices=["red", "green", "blue"], min_answers=1, max_answers=2
    )
    page = sign_in(UserFactory())

    take_next(page)
    expect(page.get_by_role("link", name="+1212123456@ww1234")).to_be_visible()
    page.get_by_label("Your answer (a number)").fill("a lot")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("alert")).to_have_text("Please enter a number.")
    expect(page.get_by_label("Your answer (a number)")).to_have_value("a lot")  # kept to correct
    page.get_by_label("Your answer (a number)").fill("42.5")
    submit(page)

    take_next(page)
    expect(page.get_by_text("Choose 1 to 2")).to_be_visible()
    for color in ("red", "green", "blue"):
        page.get_by_label(color).check()
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("alert")).to_have_text("Please choose at most 2.")
    page.get_by_label("green").uncheck()  # the choices made are kept
    submit(page)

    text_request.refresh_from_db()
    choice_request.refresh_from_db()
    assert text_request.response == "42.5"
    assert choice_request.response == ["red", "blue"]


@pytest.mark.browser
def test_media_answer_by_upload(sign_in, live_url, live_key_obj, tmp_path, settings):
    settings.CROWD_PUBLIC_URL = live_url
    crowd_request = new_request(live_key_obj, "image")
    png = tmp_path / "cake.png"
    png.write_bytes(httpx.get(live_url + SAMPLE_IMAGE).content)
    page = sign_in(UserFactory())
    take_next(page)
    page.get_by_label("Upload the image").set_input_files(str(png))
    submit(page)

    crowd_request.refresh_from_db()
    assert crowd_request.response.startswith(live_url + "/requests/files/")
    served = httpx.get(crowd_request.response)
    assert served.status_code == 200 and served.content == png.read_bytes()


@pytest.mark.browser
def test_attachments_render_by_type(sign_in, live_url, live_key_obj):
    new_request(
        live_key_obj,
        "multiple-choice",
        attachments_type="website",
        attachments=[live_url + "/static/css/portal.css"],  # a static file: no view, no database
        choices_type="image",
        choices=[live_url + SAMPLE_IMAGE, live_url + SAMPLE_IMAGE + "?b"],
    )
    page = sign_in(UserFactory())
    take_next(page)
    expect(page.locator("iframe[title='Website attachment 0']")).to_have_count(1)
    expect(page.locator("fieldset.choices img")).to_have_count(2)


@pytest.mark.browser
def test_a_task_is_held_by_one_cruncher_at_a_time(browser, live_url, live_key_obj):
    new_request(live_key_obj, "free-text", confidence={"min_agreements": 2, "max_crunchers": 3})
    first, second = (_signed_in(browser, live_url, UserFactory()) for _ in range(2))

    take_next(first)
    second.goto("/requests/work/")
    second.get_by_role("button", name="Take next task").click()
    expect(second.get_by_text("No task is waiting for you right now.")).to_be_visible()
    first.get_by_role("button", name="Skip").click()
    take_next(second)


def _signed_in(browser, live_url, user):
    context = browser.new_context(base_url=live_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


@pytest.mark.browser
@pytest.mark.worker
def test_three_crunchers_reach_a_majority_and_a_signed_webhook_arrives(
    browser, live_url, celery_worker, live_key_obj, receiver
):
    crowd_request = new_request(
        live_key_obj,
        "multiple-choice",
        attachments_type="image",
        attachments=[live_url + SAMPLE_IMAGE],
        choices=["no violence", "mild violence", "intense violence"],
        max_answers=0,
        confidence={"strategy": "majority", "min_agreements": 2, "max_crunchers": 3},
        hook_url=receiver.url,
    )
    votes = [["no violence", "mild violence"], ["intense violence"], ["mild violence", "no violence"]]
    crunchers = [_signed_in(browser, live_url, UserFactory()) for _ in votes]
    for page, vote in zip(crunchers, votes, strict=True):
        take_next(page)
        expect(page.locator("img.attachment-image")).to_be_visible()
        for choice in vote:
            page.get_by_label(choice).check()
        submit(page)
        crowd_request.refresh_from_db()

    assert crowd_request.status == "complete"
    assert sorted(crowd_request.response) == ["mild violence", "no violence"]
    [(headers, body, _at)] = receiver.wait_for(1)
    secret = webhook_secret_get(account=live_key_obj.account)
    assert webhook_verified(secret, headers, body)
    delivered = json.loads(body)
    assert delivered["status"] == "complete" and sorted(delivered["response"]) == [
        "mild violence",
        "no violence",
    ]
    assert len(delivered["raw_responses"]) == 3
    assert CrowdAnswer.objects.filter(request=crowd_request).count() == 3


@pytest.mark.browser
@pytest.mark.worker
def test_account_keys_secret_requests_and_replay(sign_in, live_url, celery_worker, account, receiver):
    owner = account.owner
    page = sign_in(owner)
    page.goto("/requests/")
    page.get_by_role("link", name="acme").click()

    page.get_by_label("Key name").fill("ci")
    page.get_by_label("Test key").check()
    page.get_by_role("button", name="Create key").click()
    value = page.get_by_label("New key value").input_value()
    assert value.startswith("test_") and len(value) == 37
    key = CrowdApiKey.objects.get(name="ci")
    assert value not in key.secret_hash
    page.goto(f"/requests/accounts/{account.pk}/")
    expect(page.get_by_label("New key value")).to_have_count(0)  # shown once

    page.get_by_text("Show secret").click()
    old_secret = page.get_by_label("Secret", exact=True).input_value()
    assert old_secret == webhook_secret_get(account=account)
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rotate the webhook secret of acme?")
    assert webhook_secret_get(account=account) == old_secret  # asked first: nothing rotated yet
    page.get_by_role("button", name="Rotate the webhook secret of acme").click()
    page.get_by_text("Show secret").click()
    assert page.get_by_label("Secret", exact=True).input_value() not in (old_secret, "")

    # A staging request with a webhook, answered by the robots, then replayed from its page.
    response = httpx.post(
        f"{live_url}/v1/requests/free-text?block=30",
        headers={"X-Heat-API-Key": value},
        json={"instruction": "Translate", "attachments": ["hola mundo"], "hook_url": receiver.url},
        timeout=40,
    )
    assert response.json()["status"] == "complete"
    receiver.wait_for(1)
    page.goto("/requests/?status=complete")
    page.get_by_role("link", name=response.json()["id"][:8]).click()
    expect(page.get_by_test_id("status")).to_have_text("complete")
    expect(page.get_by_role("table", name="Answers").locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Replay webhook").click()
    expect(page.get_by_text("Webhook queued again")).to_be_visible()
    receiver.wait_for(2)
    assert len({headers["webhook-id"] for headers, _, _ in receiver.received}) == 2
    page.reload()
    expect(page.get_by_role("table", name="Webhook deliveries").locator("tbody tr")).to_have_count(2)

    page.goto(f"/requests/accounts/{account.pk}/")
    page.get_by_role("button", name=f"Revoke {key.masked}").click()
    page.get_by_role("button", name=f"Revoke key {key.masked}").click()  # the confirmation
    expect(page.get_by_text(f"Key {key.masked} revoked.")).to_be_visible()
    assert (
        httpx.get(
            f"{live_url}/v1/requests/{response.json()['id']}", headers={"X-Heat-API-Key": value}
        ).status_code
        == 401
    )
    assert WebhookDelivery.objects.filter(request_id=response.json()["id"]).count() == 2
    assert CrowdRequest.objects.count() == 1


@pytest.mark.browser
def test_points_with_a_multiple_choice_question_each(sign_in, live_url, live_key_obj):
    crowd_request = new_request(
        live_key_obj,
        "annotations-with-multiple-choice",
        attachments_type="image",
        attachments=[live_url + SAMPLE_IMAGE, live_url + SAMPLE_IMAGE + "?second"],
        per_annotation={"instruction": "What color is the cat", "choices": ["gray", "ginger"]},
    )
    page = sign_in(UserFactory())
    take_next(page)
    page.wait_for_function(
        "[...document.querySelectorAll('img.attachment-image')].every(i => i.naturalWidth > 0)"
    )
    page.get_by_test_id("overlay-1").scroll_into_view_if_needed()
    box = page.get_by_test_id("overlay-1").bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + 20)
    expect(page.get_by_text("What color is the cat")).to_be_visible()
    page.get_by_label("ginger (annotation 1)").check()
    submit(page)

    crowd_request.refresh_from_db()
    assert crowd_request.response == [{"x": 10, "y": 20, "attachment_index": 1, "response": ["ginger"]}]


# --- With Django's test client against the real views ------------------------------------------


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


def test_the_api_keeps_its_documented_answer_errors(db, live_api_key):
    from crowd_app.services import ServiceError, answer_submit, cruncher_for_user, task_take_next

    crowd_request = new_request(live_api_key, "free-text")
    cruncher = cruncher_for_user(user=UserFactory())
    task_take_next(cruncher=cruncher)
    with pytest.raises(ServiceError, match=r"^response: must be a non-empty text$"):
        answer_submit(crowd_request=crowd_request, cruncher=cruncher, response=" ")


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
