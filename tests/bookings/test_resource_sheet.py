"""Resources in bulk: `POST /resources/import` of a CSV sheet and `GET /resources` as CSV."""

import csv
import io

import pytest

from tests.support.api import assert_problem

CSV = "text/csv"
HEADER = (
    "name,description,active,time_zone,approval,min_notice_minutes,max_advance_days,"
    "min_duration_minutes,max_duration_minutes,buffer_minutes,opening_hours,quota,"
    "checkin_minutes,reminder_minutes,approval_deadline_hours"
)


def _import(api, admin, text, content_type=CSV):
    return api.client.post(
        "/resources/import", data=text.encode("utf-8", "surrogatepass"),
        content_type=content_type, headers=admin.headers,
    )  # fmt: skip


def _imported(api, admin, text) -> dict:
    response = _import(api, admin, text)
    assert response.status_code == 200, response.json
    return response.json


def _export(api, account):
    return api.client.get("/resources", headers={**account.headers, "Accept": CSV})


def _resources(api, admin) -> dict[str, dict]:
    listed = api.client.get("/resources", headers=admin.headers).json["resources"]
    return {resource["name"]: resource for resource in listed}


def test_an_import_creates_resources_with_their_rules(api):
    admin = api.admin()
    sheet = (
        "name,time_zone,approval,buffer_minutes,opening_hours,quota\r\n"
        "Room A,Europe/Berlin,auto,15,mon=08:00-12:00 13:00-18:00;TUE=08:00-24:00,10/week\r\n"
        "Van,,,,,1.5/day\r\n"
    )
    assert _imported(api, admin, sheet) == {"created": 2, "updated": 0, "errors": []}
    resources = _resources(api, admin)
    room, van = resources["Room A"], resources["Van"]
    assert (room["time_zone"], room["approval"], room["active"]) == ("Europe/Berlin", "auto", True)
    assert room["rules"]["buffer_minutes"] == 15
    assert room["rules"]["opening_hours"] == {
        "mon": [["08:00", "12:00"], ["13:00", "18:00"]], "tue": [["08:00", "24:00"]],
        "wed": [], "thu": [], "fri": [], "sat": [], "sun": [],
    }  # fmt: skip
    assert room["rules"]["quota"] == {"hours": 10, "per": "week"}
    assert (van["time_zone"], van["approval"], van["description"]) == ("UTC", "required", "")
    assert van["rules"]["quota"] == {"hours": 1.5, "per": "day"}
    assert van["rules"]["opening_hours"] is None


def test_rows_match_resources_by_name_ignoring_case_and_update_only_their_columns(api):
    admin = api.admin()
    room = api.resource(admin, rules={"buffer_minutes": 10, "max_advance_days": 30})
    sheet = f"name,buffer_minutes,description\n{room['name'].upper()},,Projector\n"
    assert _imported(api, admin, sheet) == {"created": 0, "updated": 1, "errors": []}
    seen = api.client.get(f"/resources/{room['id']}", headers=admin.headers).json
    assert seen["name"] == room["name"].upper() and seen["description"] == "Projector"
    assert seen["rules"]["buffer_minutes"] is None  # an empty cell: no rule
    assert seen["rules"]["max_advance_days"] == 30  # no column: unchanged


def test_any_wrong_line_stores_nothing_and_the_report_names_each_with_patchs_messages(api):
    admin = api.admin()
    room = api.resource(admin)
    sheet = (
        "name,time_zone,buffer_minutes,opening_hours,quota,min_duration_minutes,"
        "max_duration_minutes\n"
        "Fine new room,UTC,5,,,,\n"  # line 2: would be created
        "Bad zone,Mars/Olympus,-5,,,,\n"  # line 3
        "Bad hours,,,mon=18:00-08:00,2/year,,\n"  # line 4
        "Bad form,,,monday 8-12,lots,,\n"  # line 5
        f"{room['name']},,,,,90,60\n"  # line 6: valid cells, wrong together
        "\n"  # a blank line is skipped, and counted
        '"Two",,x,"lines\nof hours",,,\n'  # line 8, spanning two lines
        "fine NEW room,,,,,,\n"  # line 10: line 2's resource again
        "Short,UTC\n"  # line 11
    )
    report = _imported(api, admin, sheet)
    assert (report["created"], report["updated"]) == (0, 0)
    by_line = {error["line"]: error["errors"] for error in report["errors"]}
    assert sorted(by_line) == [3, 4, 5, 6, 8, 10, 11]
    assert by_line[3]["time_zone"] == ["Not an IANA time zone name, e.g. 'Europe/Berlin' or 'UTC'."]
    assert by_line[3]["buffer_minutes"][0].startswith("Must be greater than or equal to 0")
    assert set(by_line[4]) == {"opening_hours.mon.0", "quota.per"}
    assert by_line[5]["opening_hours"][0].startswith("Write opening hours as mon=08:00-12:00")
    assert by_line[5]["quota"] == ["Write a quota as hours/period, e.g. 10/week or 1.5/day."]
    assert by_line[6] == {"min_duration_minutes": ["Must not exceed max_duration_minutes (60)."]}
    assert by_line[8]["buffer_minutes"] == ["Not a valid integer."]
    assert by_line[10] == {"name": ["Line 2 names it too."]}
    assert by_line[11] == {"_line": ["The line has 2 cells; the header names 7."]}

    patched = api.client.patch(
        f"/resources/{room['id']}", json={"time_zone": "Mars/Olympus"}, headers=admin.headers
    )
    assert assert_problem(patched, 422)["errors"]["time_zone"] == by_line[3]["time_zone"]
    assert set(_resources(api, admin)) == {"Main calendar", room["name"]}  # nothing stored


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "The first line names the columns"),
        ("description,active", "The first line names the columns"),
        ("name,colour", "Unknown column 'colour'."),
        ("name,quota,quota", "Column 'quota' twice."),
    ],
)
def test_a_header_without_name_or_with_unknown_columns_is_reported_as_line_1(api, header, message):
    admin = api.admin()
    before = _resources(api, admin)
    report = _imported(api, admin, f"{header}\nRoom,x\n")
    ((error,),) = [report["errors"]]
    assert error["line"] == 1 and error["errors"]["_line"][0].startswith(message)
    assert _resources(api, admin) == before


@pytest.mark.parametrize(
    "cell",
    ["Room\x00A", "Room\x1bA", "Room\x7f", "Room\udc80A", "Room\ud800A"],
)
def test_control_characters_and_lone_surrogates_in_a_cell_are_that_lines_error(api, cell):
    admin = api.admin()
    before = _resources(api, admin)
    sheet = f"name,description,time_zone\nGood,,UTC\n{cell},ok,UTC\nAlso good,{cell},{cell}\n"
    report = _imported(api, admin, sheet)
    by_line = {error["line"]: error["errors"] for error in report["errors"]}
    assert set(by_line) == {3, 4}
    assert set(by_line[3]) == {"name"} and set(by_line[4]) == {"description", "time_zone"}
    assert _resources(api, admin) == before


def test_bytes_that_are_not_utf8_are_that_lines_error(api):
    admin = api.admin()
    before = _resources(api, admin)
    body = b"name,description\nGood,\nCaf\xe9,latin-1\n\xff\xfe,\n"
    response = api.client.post(
        "/resources/import", data=body, content_type=CSV, headers=admin.headers
    )
    assert response.status_code == 200, response.json
    assert [error["line"] for error in response.json["errors"]] == [3, 4]
    assert _resources(api, admin) == before


def test_a_byte_order_mark_and_a_utf8_charset_are_fine(api):
    admin = api.admin()
    response = api.client.post(
        "/resources/import", data="\ufeffname\nRäum\n".encode(),
        content_type="text/csv; charset=UTF-8", headers=admin.headers,
    )  # fmt: skip
    assert response.json == {"created": 1, "updated": 0, "errors": []}
    assert list(_resources(api, admin)) == ["Main calendar", "Räum"]


def test_only_admins_import_and_export(api):
    requester = api.user()
    assert_problem(_import(api, requester, "name\nRoom\n"), 403)
    assert_problem(_export(api, requester), 403)
    assert_problem(api.client.post("/resources/import", data="name\nRoom\n"), 401)


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "text/csv; charset=latin-1"]
)
def test_an_import_that_is_not_utf8_csv_is_415(api, content_type):
    admin = api.admin()
    before = _resources(api, admin)
    assert_problem(_import(api, admin, "name\nRoom\n", content_type), 415)
    assert _resources(api, admin) == before


def test_a_sheet_over_the_body_limit_is_413_chunked_or_not(api):
    admin = api.admin()
    before = _resources(api, admin)
    sheet = "name\n" + "".join(f"Room {i}\n" for i in range(10_000))
    assert_problem(_import(api, admin, sheet), 413)
    chunked = api.client.post(
        "/resources/import", input_stream=io.BytesIO(sheet.encode()), content_type=CSV,
        headers={**admin.headers, "Transfer-Encoding": "chunked"},
    )  # fmt: skip
    assert_problem(chunked, 413)
    assert _resources(api, admin) == before


def test_the_export_has_the_import_columns_and_a_round_trip_changes_nothing(api):
    admin = api.admin()
    api.resource(
        admin, time_zone="America/New_York", approval="auto",
        description='=HYPERLINK("http://evil.example")\nsecond line, "quoted"',
        rules={
            "min_notice_minutes": 60, "max_advance_days": 90, "min_duration_minutes": 15,
            "max_duration_minutes": 240, "buffer_minutes": 10,
            "quota": {"hours": 0.25, "per": "month"},
            "opening_hours": {
                "mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "14:00"]],
            },
        },
    )  # fmt: skip
    api.resource(admin, rules={"opening_hours": {}})  # a rule: closed all week
    quoted = api.resource(admin, description="'quoted', -1 and +1")
    api.client.patch(f"/resources/{quoted['id']}", json={"active": False}, headers=admin.headers)
    api.resource(admin)
    before = _resources(api, admin)

    exported = _export(api, admin)
    assert exported.status_code == 200 and exported.mimetype == CSV
    assert "attachment" in exported.headers["Content-Disposition"]
    sheet = exported.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(sheet, newline="")))
    assert sheet.startswith(HEADER + "\r\n") and len(rows) == 5
    assert rows.pop(0)["name"] == "Main calendar"  # made by the first migration
    assert rows[0]["description"].startswith("'=HYPERLINK")  # no formula runs
    assert rows[0]["opening_hours"] == (
        "mon=08:00-12:00 13:00-24:00;tue=;wed=;thu=;fri=;sat=10:00-14:00;sun="
    )
    first = (rows[0]["quota"], rows[0]["buffer_minutes"], rows[0]["active"])
    assert first == ("0.25/month", "10", "true")
    assert rows[1]["opening_hours"] == "mon=;tue=;wed=;thu=;fri=;sat=;sun="
    assert rows[2]["description"] == "''quoted', -1 and +1" and rows[2]["active"] == "false"
    assert rows[3]["opening_hours"] == rows[3]["quota"] == rows[3]["description"] == ""

    assert _imported(api, admin, sheet) == {"created": 0, "updated": 0, "errors": []}
    assert _resources(api, admin) == before
    assert _export(api, admin).get_data(as_text=True) == sheet


def test_an_edited_export_imports_back(api):
    admin = api.admin()
    room = api.resource(admin, rules={"buffer_minutes": 5})
    sheet = _export(api, admin).get_data(as_text=True)
    edited = sheet.replace(",5,", ",20,") + "New room,,true,UTC,auto" + "," * 10 + "\r\n"
    assert _imported(api, admin, edited) == {"created": 1, "updated": 1, "errors": []}
    resources = _resources(api, admin)
    assert resources[room["name"]]["rules"]["buffer_minutes"] == 20
    assert resources["New room"]["approval"] == "auto"


def test_json_stays_the_default_of_get_resources(api):
    admin = api.admin()
    api.resource(admin)
    response = api.client.get("/resources", headers=admin.headers)
    assert response.mimetype == "application/json" and len(response.json["resources"]) == 2


def test_the_api_document_describes_the_sheet(api):
    document = api.client.get("/openapi.json").json
    imported = document["paths"]["/resources/import"]["post"]
    assert imported["operationId"] == "import_resources"
    assert list(imported["requestBody"]["content"]) == [CSV]
    assert "opening_hours" in imported["requestBody"]["description"]
    listed = document["paths"]["/resources"]["get"]["responses"]["200"]["content"]
    assert set(listed) == {"application/json", CSV}
