"""POST /sessions/{sid}/etl: multipart .csv/.json/.xlsx uploads validated against the schema."""

import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scenarios_app.datasets import master_profile_rows
from scenarios_app.models import Dataset
from tests.scenarios_app.helpers import API, HEADER, profile_csv

pytestmark = pytest.mark.django_db


def profile_xlsx(rows=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "profile"
    sheet.append(HEADER)
    for row in rows if rows is not None else master_profile_rows(days=1):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(api, files, dataset_name="uploaded", sid="main"):
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files]}
    if dataset_name is not None:
        data["dataset_name"] = dataset_name
    return api.post(f"{API}/sessions/{sid}/etl", data, format="multipart")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("profile.csv", profile_csv()),
        ("profile.xlsx", profile_xlsx()),
        (
            "profile.json",
            json.dumps([dict(zip(HEADER, row, strict=True)) for row in master_profile_rows(1)]).encode(),
        ),
        ("profile.json", json.dumps({"columns": HEADER, "rows": list(master_profile_rows(1))}).encode()),
    ],
)
def test_a_valid_upload_becomes_a_dataset(api, main, name, content):
    response = upload(api, [(name, content)])

    assert response.status_code == 200
    body = response.json()
    assert body["dataset_name"] == "uploaded"
    assert body["success"] is True
    assert body["keys"] == ["Master data", "uploaded"]
    assert {"level": "info", "message": "96 rows", "table": "profile"} in body["messages"]
    stored = Dataset.objects.get(key="uploaded")
    assert stored.tables["profile"]["rows"][0] == next(iter(master_profile_rows(1)))


def test_the_uploaded_dataset_runs_like_master_data(api, main):
    upload(api, [("profile.csv", profile_csv())])

    response = api.post(
        f"{API}/sessions/main/scenarios",
        {"tag": "t", "dataset_key": "uploaded", "algo_name": "PeakShavingLP"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["input_data_id"] == "uploaded"


def test_errors_make_success_false_and_store_nothing(api, main):
    rows = list(master_profile_rows(days=1))
    rows[3][1] = "lots"
    rows[5][2] = -4

    body = upload(api, [("profile.csv", profile_csv(rows))]).json()

    assert body["success"] is False
    assert body["keys"] == ["Master data"]
    errors = [message for message in body["messages"] if message["level"] == "error"]
    assert errors == [
        {
            "level": "error",
            "message": "not a number: 'lots'",
            "table": "profile",
            "row": 5,
            "column": "load_kw",
        },
        {
            "level": "error",
            "message": "-4 is below the minimum 0",
            "table": "profile",
            "row": 7,
            "column": "pv_kw",
        },
    ]
    assert not Dataset.objects.filter(key="uploaded").exists()


def test_a_failed_upload_leaves_an_existing_dataset_as_it_was(api, main):
    before = Dataset.objects.get(key="Master data").tables

    body = upload(api, [("profile.csv", profile_csv(header=["timestamp", "load_kw"]))], "Master data").json()

    assert body["success"] is False
    missing = {"level": "error", "message": "required column 'pv_kw' is missing", "table": "profile"}
    assert {**missing, "column": "pv_kw"} in body["messages"]
    assert Dataset.objects.get(key="Master data").tables == before


def test_an_unknown_stem_is_an_error_message(api, main):
    body = upload(api, [("profile.csv", profile_csv()), ("inventory.csv", b"a,b\n1,2\n")]).json()

    assert body["success"] is False
    assert any("'inventory.csv' names no table group" in message["message"] for message in body["messages"])
    assert not Dataset.objects.filter(key="uploaded").exists()


def test_extra_columns_are_warnings_and_uneven_steps_too(api, main):
    rows = [[*row, "x"] for row in master_profile_rows(days=1)]
    del rows[10]

    body = upload(api, [("profile.csv", profile_csv(rows, header=[*HEADER, "note"]))]).json()

    assert body["success"] is True
    levels = {(message["level"], message["message"]) for message in body["messages"]}
    assert ("warning", "column 'note' is not in the schema and was ignored") in levels
    assert ("warning", "timestamps are not evenly spaced") in levels


def test_timestamps_must_increase(api, main):
    rows = list(master_profile_rows(days=1))
    rows[4][0] = rows[2][0]

    body = upload(api, [("profile.csv", profile_csv(rows))]).json()

    assert body["success"] is False
    assert body["messages"][0]["message"] == "timestamps must be strictly increasing"


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("profile.xlsx", b"not a zip", "not a readable .xlsx workbook"),
        ("profile.json", b"{nope", "is not valid JSON"),
        ("profile.csv", b"\xff\xfe\x00bad", "not a readable UTF-8 CSV"),
        ("profile.json", b'"a string"', "JSON must be an array of objects"),
    ],
)
def test_unreadable_files_are_error_messages_not_500s(api, main, name, content, fragment):
    response = upload(api, [(name, content)])

    assert response.status_code == 200
    assert response.json()["success"] is False
    assert any(fragment in message["message"] for message in response.json()["messages"])


def test_an_unsupported_extension_is_400(api, main):
    response = upload(api, [("profile.txt", b"x")])

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Unsupported file extension '.txt' for 'profile.txt'. Use .csv, .json or .xlsx."
    }


def test_no_files_is_400(api, main):
    response = api.post(f"{API}/sessions/main/etl", {"dataset_name": "x"}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"detail": "No files supplied."}


def test_an_upload_without_a_filename_is_400(api, main):
    response = api.post(
        f"{API}/sessions/main/etl", {"dataset_name": "x", "files": "plain text"}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "An upload is missing a filename."}


def test_a_missing_dataset_name_is_422(api, main):
    response = upload(api, [("profile.csv", profile_csv())], dataset_name=None)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "dataset_name"]


def test_an_unknown_session_is_404(api, main):
    assert upload(api, [("profile.csv", profile_csv())], sid="nope").status_code == 404


def test_an_upload_over_the_limit_is_413(api, main, settings):
    settings.SCENARIOS_ETL_MAX_BYTES = 1000

    response = upload(api, [("profile.csv", profile_csv())])

    assert response.status_code == 413
    assert not Dataset.objects.filter(key="uploaded").exists()


def test_a_workbook_that_unpacks_too_large_is_refused(api, main, settings):
    settings.SCENARIOS_ETL_MAX_XLSX_UNCOMPRESSED = 1000

    body = upload(api, [("profile.xlsx", profile_xlsx())]).json()

    assert body["success"] is False
    assert "unpacks to" in body["messages"][0]["message"]


def test_openpyxl_parses_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_an_overlong_dataset_name_is_422(api, main):
    response = upload(api, [("profile.csv", profile_csv())], dataset_name="d" * 201)

    assert response.status_code == 422
    assert not Dataset.objects.exclude(key="Master data").exists()


def test_a_json_file_over_its_own_limit_is_refused(api, main, settings):
    settings.SCENARIOS_ETL_MAX_JSON_BYTES = 100
    content = json.dumps({"columns": HEADER, "rows": list(master_profile_rows(1))}).encode()

    body = upload(api, [("profile.json", content)]).json()

    assert body["success"] is False
    assert "upload large tables as .csv or .xlsx" in body["messages"][0]["message"]


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 3000,
        b'[{"a": NaN}]',
        b'[{"a": 1e400}]',
        b'[{"a": "\\u0000"}]',
        b'[{"\\ud800": 1}]',
        b"\xff\xfe",
    ],
)
def test_a_json_file_that_no_api_accepts_is_a_message_not_a_crash(api, main, content):
    response = upload(api, [("profile.json", content)])

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False
    assert "is not valid JSON" in body["messages"][0]["message"]
