"""The crowd area's portal pages and the crunchers' work pages in a real browser (Playwright)."""

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from crowd_app.models import CrowdAnswer, CrowdApiKey, CrowdRequest, WebhookDelivery
from crowd_app.selectors import webhook_secret_get
from crowd_app.services import crowd_api_key_create
from tests.crowd_app.helpers import new_request
from tests.crowd_app.webhook_signatures import webhook_verified
from tests.factories import UserFactory
from tests.helpers import browser_sign_in

pytestmark = pytest.mark.browser

SAMPLE_IMAGE = "/static/crowd_app/staging/sample.png"  # 320 x 240


@pytest.fixture
def live_key_obj(account):
    return crowd_api_key_create(account=account)[0]


def take_next(page):
    page.goto("/requests/work/")
    page.get_by_role("button", name="Take next task").click()
    page.wait_for_url(re.compile(r"/requests/work/[0-9a-f-]{36}/$"))


def submit(page):
    page.get_by_role("button", name="Submit answer").click()
    page.wait_for_url(re.compile(r"/requests/work/$"))
    expect(page.get_by_text("Thank you, your answer is recorded.")).to_be_visible()


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
    return browser_sign_in(context.new_page(), user)


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


@pytest.mark.worker
def test_account_keys_secret_requests_and_replay(sign_in, live_url, celery_worker, account, receiver):
    owner = account.owner
    page = sign_in(owner)
    page.goto("/requests/")
    page.get_by_role("link", name="acme").click()

    key, value = _create_a_test_key(page, account)
    _rotate_the_webhook_secret(page, account)
    request_id = _replay_a_delivered_webhook(page, live_url, value, receiver)
    account.refresh_from_db()
    for headers, body, _at in receiver.received:  # both deliveries, signed with the new secret
        assert webhook_verified(webhook_secret_get(account=account), headers, body)

    page.goto(f"/requests/accounts/{account.pk}/")
    page.get_by_role("button", name=f"Revoke {key.masked}").click()
    page.get_by_role("button", name=f"Revoke key {key.masked}").click()  # the confirmation
    expect(page.get_by_text(f"Key {key.masked} revoked.")).to_be_visible()
    assert (
        httpx.get(f"{live_url}/v1/requests/{request_id}", headers={"X-Heat-API-Key": value}).status_code
        == 401
    )
    assert WebhookDelivery.objects.filter(request_id=request_id).count() == 2
    assert CrowdRequest.objects.count() == 1


def _create_a_test_key(page, account):
    """Create a test key on the account page: its value is shown once, only its hash stored."""
    page.get_by_label("Key name").fill("ci")
    page.get_by_label("Test key").check()
    page.get_by_role("button", name="Create key").click()
    value = page.get_by_label("New key value").input_value()
    assert value.startswith("test_") and len(value) == 37
    key = CrowdApiKey.objects.get(name="ci")
    assert value not in key.secret_hash
    page.goto(f"/requests/accounts/{account.pk}/")
    expect(page.get_by_label("New key value")).to_have_count(0)  # shown once
    return key, value


def _rotate_the_webhook_secret(page, account):
    """The page shows the secret; rotating it asks first, then shows a new one."""
    page.get_by_text("Show secret").click()
    old_secret = page.get_by_label("Secret", exact=True).input_value()
    assert old_secret == webhook_secret_get(account=account)
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rotate the webhook secret of acme?")
    account.refresh_from_db()
    assert webhook_secret_get(account=account) == old_secret  # asked first: nothing rotated yet
    page.get_by_role("button", name="Rotate the webhook secret of acme").click()
    page.get_by_text("Show secret").click()
    assert page.get_by_label("Secret", exact=True).input_value() not in (old_secret, "")


def _replay_a_delivered_webhook(page, live_url, value, receiver):
    """A staging request with a webhook, answered by the robots, then replayed from its page.
    Returns the request's id."""
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
    return response.json()["id"]


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
