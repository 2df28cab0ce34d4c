"""ETL: uploaded .csv, .json and .xlsx files into a dataset (document 003, POST /etl).

Each file's stem names the schema's table group it fills (``profile.csv`` fills ``profile``),
its extension picks the reader. Files are read as streams: CSV line by line, XLSX with
openpyxl in read-only mode (which parses with defusedxml when it is installed, as it is here),
JSON whole but under the request size limit. Every problem becomes a message with a level;
when any is an error, nothing is stored.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from heatportal.accounts.models import User
from heatportal.api.input import BadInput, parse_json
from scenarios_app import datasets, selectors, services
from scenarios_app.datasets import ERROR, Messages, TableGroup
from scenarios_app.models import RunnerSession

EXTENSIONS = (".csv", ".json", ".xlsx")


class UnsupportedUpload(services.Invalid):
    """An upload the endpoint refuses outright (400), before any ETL runs."""


@dataclass
class EtlResult:
    dataset_name: str
    success: bool
    keys: list[str]
    messages: list[dict]

    def to_dict(self) -> dict:
        return {
            "dataset_name": self.dataset_name,
            "success": self.success,
            "keys": self.keys,
            "messages": self.messages,
        }


class UploadTooLarge(services.ServiceError):
    status = 413


def check_uploads(uploads: list[UploadedFile]) -> None:
    if not uploads:
        raise UnsupportedUpload("No files supplied.")
    total = sum(upload.size or 0 for upload in uploads)
    if total > settings.SCENARIOS_ETL_MAX_BYTES:
        raise UploadTooLarge(
            f"The upload is {total} bytes; at most {settings.SCENARIOS_ETL_MAX_BYTES} are accepted."
        )
    for upload in uploads:
        if not upload.name:
            raise UnsupportedUpload("An upload is missing a filename.")
        suffix = PurePath(upload.name).suffix.lower()
        if suffix not in EXTENSIONS:
            raise UnsupportedUpload(
                f"Unsupported file extension '{suffix or '(none)'}' for '{upload.name}'. "
                "Use .csv, .json or .xlsx."
            )


def _read_csv(upload: UploadedFile, group: TableGroup, messages: Messages):
    upload.seek(0)
    lines = codecs.iterdecode(iter(upload), "utf-8-sig")
    reader = csv.reader(lines)
    header = next(reader, None)
    return header, reader


def _read_json(upload: UploadedFile, group: TableGroup, messages: Messages):
    # JSON is parsed whole (its objects take several times the file's size in memory): it has
    # a lower limit than the streamed formats.
    if (upload.size or 0) > settings.SCENARIOS_ETL_MAX_JSON_BYTES:
        messages.add(
            ERROR,
            f"'{upload.name}' is larger than {settings.SCENARIOS_ETL_MAX_JSON_BYTES} bytes; "
            "upload large tables as .csv or .xlsx",
            table=group.name,
        )
        return None, []
    upload.seek(0)
    data: Any = parse_json(upload.read())
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        return data.get("columns"), data["rows"]
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        header = list(data[0].keys()) if data else None
        return header, ([item.get(name) for name in header or []] for item in data)
    messages.add(
        ERROR,
        'JSON must be an array of objects or {"columns": [...], "rows": [[...], ...]}',
        table=group.name,
    )
    return None, []


def _read_xlsx(upload: UploadedFile, group: TableGroup, messages: Messages):
    import openpyxl

    upload.seek(0)
    with zipfile.ZipFile(upload) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > settings.SCENARIOS_ETL_MAX_XLSX_UNCOMPRESSED:
        messages.add(ERROR, f"the workbook unpacks to {unpacked} bytes, more than allowed", table=group.name)
        return None, []
    upload.seek(0)
    workbook = openpyxl.load_workbook(upload, read_only=True, data_only=True)
    sheet = workbook[group.name] if group.name in workbook.sheetnames else workbook.worksheets[0]
    rows: Iterator[tuple] = sheet.iter_rows(values_only=True)
    header = next(rows, None)

    def remaining() -> Iterable[tuple]:
        try:
            yield from rows
        finally:
            workbook.close()

    return (list(header) if header else None), remaining()


READERS = {".csv": _read_csv, ".json": _read_json, ".xlsx": _read_xlsx}


def etl_run(
    *,
    session: RunnerSession,
    dataset_name: str,
    uploads: list[UploadedFile],
    schema: datasets.Schema = datasets.LOAD_PROFILE,
    owner: User | None = None,
) -> EtlResult:
    """Extract, validate and (only when no message is an error) store the dataset, ``owner``'s
    (None: the installation's)."""
    if not dataset_name.strip() or len(dataset_name) > 200 or "\x00" in dataset_name:
        raise services.Invalid("The dataset name must be 1 to 200 characters long.")
    check_uploads(uploads)
    messages = Messages()
    tables: dict[str, dict[str, Any]] = {}
    for upload in uploads:
        _extract(upload, schema, tables, messages)
    _check_required_groups(schema, tables, messages)
    if messages.ok:
        services.dataset_store(
            session=session,
            key=dataset_name,
            schema=schema.name,
            tables=tables,
            parameters={"source": "etl", "files": [upload.name for upload in uploads]},
            owner=owner,
        )
    return EtlResult(
        dataset_name=dataset_name,
        success=messages.ok,
        keys=selectors.dataset_keys(session=session),
        messages=messages.to_list(),
    )


def _extract(
    upload: UploadedFile, schema: datasets.Schema, tables: dict[str, dict[str, Any]], messages: Messages
) -> None:
    """Read and validate the upload into ``tables`` (its table group's), or say why not."""
    name = upload.name or ""
    path = PurePath(name)
    stem, suffix = path.stem, path.suffix.lower()
    group = schema.group(stem)
    if group is None:
        expected = ", ".join(group.name for group in schema.groups)
        messages.add(
            ERROR,
            f"'{name}' names no table group of schema '{schema.name}' (expected: {expected})",
            table=stem,
        )
        return
    if stem in tables:
        messages.add(ERROR, f"table group '{stem}' is uploaded more than once", table=stem)
        return
    try:
        header, rows = READERS[suffix](upload, group, messages)
        tables[stem] = datasets.validate_table(group, header, rows, messages)
    except (UnicodeDecodeError, csv.Error) as error:
        messages.add(ERROR, f"'{name}' is not a readable UTF-8 CSV file ({error})", table=stem)
    except BadInput as error:
        messages.add(ERROR, f"'{name}' is not valid JSON ({error})", table=stem)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        messages.add(ERROR, f"'{name}' is not a readable .xlsx workbook ({error})", table=stem)


def _check_required_groups(schema: datasets.Schema, tables: dict[str, Any], messages: Messages) -> None:
    """An error for each required table group that is neither uploaded nor already reported."""
    for group in schema.groups:
        if (
            group.required
            and group.name not in tables
            and not any(message.table == group.name for message in messages.items)
        ):
            messages.add(ERROR, f"required table group '{group.name}' was not uploaded", table=group.name)
