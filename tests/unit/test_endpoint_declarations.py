"""The declaration decorators refuse, when the module loads, a stack that would run wrongly."""

import pytest

from my_app.resources.csv import csv_export
from my_app.resources.endpoint import arguments, authenticated, body, response, stacked
from my_app.resources.idempotency import idempotent
from my_app.schemas.base import MessageSchema, PageQuerySchema
from my_app.schemas.booking import BookingCreateSchema, BookingSchema


def view():
    def post(self, data):
        """A view."""

    return post


def test_idempotent_must_wrap_the_body_and_the_response():
    with pytest.raises(TypeError, match="@idempotent"):
        stacked(authenticated(), body(BookingCreateSchema), idempotent, response(BookingSchema))(
            view()
        )


def test_idempotent_must_run_after_authentication():
    with pytest.raises(TypeError, match="@idempotent"):
        stacked(idempotent, authenticated(), body(BookingCreateSchema), response(BookingSchema))(
            view()
        )


def test_csv_export_must_sit_below_the_page_it_streams():
    with pytest.raises(TypeError, match="@csv_export"):
        stacked(
            arguments(PageQuerySchema), csv_export(BookingSchema, "x.csv"), response(MessageSchema)
        )(view())


def test_a_stack_records_what_each_decorator_implies():
    declared = stacked(
        authenticated("admin"), idempotent, body(BookingCreateSchema), response(BookingSchema, 201)
    )(view())
    doc = declared.apidoc
    assert doc.auth == "admin" and doc.status == 201
    assert {401, 403, 400, 413, 415, 422, 409} <= doc.errors
    assert [header["name"] for header in doc.request_headers] == ["Idempotency-Key"]
    assert declared.__doc__ == "A view."
