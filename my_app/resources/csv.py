"""`@csv_export`: a paged list that also answers `Accept: text/csv` with every row, streamed;
`@csv_sheet`: a list whose CSV is a sheet to edit and import back."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Response, request, stream_with_context
from flask_jwt_extended import current_user

from my_app.models import User
from my_app.resources.endpoint import declaration
from my_app.services import export

CSV_MIMETYPE = "text/csv"


def wants_csv() -> bool:
    """The client's `Accept` prefers CSV to JSON."""
    best = request.accept_mimetypes.best_match(["application/json", CSV_MIMETYPE])
    return best == CSV_MIMETYPE


def csv_export(rows, filename: str) -> Callable:
    """With `Accept: text/csv`, every page the method returns from `cursor` on, as CSV rows.

    The method takes its query filters first and returns one page; each row is dumped
    by `rows` (a schema), nested fields flattened (`address.country`). Goes below
    `@arguments` and `@response`, which load the filters and dump the JSON page.
    """
    schema = rows() if isinstance(rows, type) else rows
    disposition = f'attachment; filename="{filename}"'

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        if doc.query is not None or doc.response is not None:
            raise TypeError("@csv_export goes below @arguments and @response")
        doc.media_types.append(CSV_MIMETYPE)

        @wraps(view)
        def run(self, filters, *args, **kwargs):
            if not wants_csv():
                return view(self, filters, *args, **kwargs)

            def fetch(**page):
                return view(self, page, *args, **kwargs)

            lines = export.lines(fetch, filters, schema)
            return Response(
                stream_with_context(lines),
                mimetype=CSV_MIMETYPE,
                headers={"Content-Disposition": disposition},
            )

        return run

    return decorate


def csv_sheet(write: Callable[[User], str], filename: str) -> Callable:
    """With `Accept: text/csv`, the sheet `write(current_user)` makes instead of the method's
    answer (a sheet small enough to build at once, unlike `@csv_export`'s pages).

    Goes below `@response`; `write` refuses whom it must (403 for non-admins).
    """
    disposition = f'attachment; filename="{filename}"'

    def decorate(view: Callable) -> Callable:
        doc = declaration(view)
        doc.media_types.append(CSV_MIMETYPE)
        doc.errors.add(403)

        @wraps(view)
        def run(self, *args, **kwargs):
            if not wants_csv():
                return view(self, *args, **kwargs)
            sheet = write(current_user)
            return Response(
                sheet, mimetype=CSV_MIMETYPE, headers={"Content-Disposition": disposition}
            )

        return run

    return decorate
