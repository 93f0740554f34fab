"""CSV exports of /list_requests and /my_requests (`Accept: text/csv`)."""

import csv
import io

from my_app.services import bookings, export
from tests.support.api import future

CSV = {"Accept": "text/csv"}


def _csv(api, account, path, **query):
    response = api.client.get(path, query_string=query, headers={**account.headers, **CSV})
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_every_matching_request_in_keyset_batches_with_flattened_fields(api, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)  # five rows: three batches
    admin, alice, bob = api.admin(), api.user(), api.user()
    ids = [api.booking(alice, event_time=future(48 + i))["id"] for i in range(3)]
    ids += [api.booking(bob, event_time=future(60 + i))["id"] for i in range(2)]
    assert api.decide(admin, "reject", ids[1], reason="No room").status_code == 200

    limits = []
    list_all = bookings.list_all

    def counting(actor, **filters):
        limits.append(filters["limit"])
        return list_all(actor, **filters)

    monkeypatch.setattr(bookings, "list_all", counting)
    rows = _csv(api, admin, "/list_requests")
    assert [int(row["id"]) for row in rows] == ids  # event time order, nothing lost
    assert limits == [2, 2, 2]  # read batch by batch, never all at once
    first = rows[0]
    assert set(first) >= {
        "id", "topic", "event_time", "status", "address.street", "address.country",
        "requested_by.id", "requested_by.username", "requested_by.email",
        "decided_by.username", "reason",
    }  # fmt: skip
    assert first["address.country"] == "US"
    assert first["requested_by.username"] == alice.username
    assert first["decided_by.username"] == "" and first["reason"] == ""
    assert rows[1]["decided_by.username"] == admin.username
    assert rows[1]["reason"] == "No room" and rows[1]["status"] == "rejected"
    assert first["event_time"].endswith("Z")

    rejected = _csv(api, admin, "/list_requests", status="rejected")
    assert [int(row["id"]) for row in rejected] == [ids[1]]
    mine = _csv(api, bob, "/my_requests")
    assert [int(row["id"]) for row in mine] == ids[3:]


def test_the_header_row_comes_even_when_nothing_matches(api):
    response = api.client.get("/my_requests", headers={**api.user().headers, **CSV})
    assert response.status_code == 200
    header = response.get_data(as_text=True).splitlines()
    assert len(header) == 1 and header[0].startswith("id,resource_id,topic,")


def test_cells_a_spreadsheet_would_run_are_escaped(api):
    requester = api.user()
    topic = '=HYPERLINK("http://evil.example","Click")'
    address = {"street": "+1 Main St", "city": "@SUM(A1)", "country": "US", "state": "-2+3"}
    api.booking(requester, topic=topic, address=address)
    (row,) = _csv(api, requester, "/my_requests")
    assert row["topic"] == "'" + topic
    assert row["address.street"] == "'+1 Main St"
    assert row["address.city"] == "'@SUM(A1)"
    assert row["address.state"] == "'-2+3"
    assert row["duration_minutes"] == "60"  # plain values are left alone


def test_json_stays_the_default_and_csv_is_for_admins_on_list_requests(api):
    requester = api.user()
    api.booking(requester)
    plain = api.client.get("/my_requests", headers=requester.headers)
    assert plain.mimetype == "application/json" and len(plain.json["bookings"]) == 1
    refused = api.client.get("/list_requests", headers={**requester.headers, **CSV})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    bad = api.client.get("/my_requests?cursor=nonsense", headers={**requester.headers, **CSV})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
