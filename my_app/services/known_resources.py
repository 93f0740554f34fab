"""The resources a worker has read for a submit, kept so that the next submit need not read
them again (services/bookings.py, `submit`): those without a quota or `approval: "auto"`,
whose submits may be one statement.

Each entry is a resource's column values as one statement read them, with the digest of
its row as PostgreSQL has it (`md5(resources::text)`, read by that same statement). An
entry is never trusted on its own: the submit that uses it writes only if the row still has
that digest (the guard of its one statement), so a resource changed by another worker or
process since (its rules, its name, deactivated) is read again and judged as it is now.

Per process and per engine (a worker has one; a test run makes many, on databases of their
own), at most `SIZE` resources each: the one filled longest ago goes first. PostgreSQL
only: elsewhere nothing is kept. A worker's threads share it, and a lock orders its writes.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import Engine

SIZE = 256  # resources per engine: a few kB each at most


class Known(NamedTuple):
    """A resource as a statement read it, and its row's digest. `rules` and `time_zone` are
    what `rules.require_followed` reads of a resource."""

    digest: str
    values: Mapping[str, Any]  # every column, by attribute name
    rules: Mapping[str, Any]

    @property
    def time_zone(self) -> str:
        return self.values["time_zone"]


_kept: weakref.WeakKeyDictionary[Engine, dict[int, Known]] = weakref.WeakKeyDictionary()
_writing = threading.Lock()


def get(engine: Engine, resource_id: int) -> Known | None:
    """The resource as last kept for `engine`, if it is."""
    kept = _kept.get(engine)
    return None if kept is None else kept.get(resource_id)


def keep(engine: Engine, values: Mapping[str, Any], digest: str, rules: Mapping[str, Any]) -> None:
    """Keep a resource's column values (as read with `digest`) and its `rules` (as
    `BookableResource.rules` shows them), in place of what was kept of it; the oldest entry
    goes if there are more than `SIZE`."""
    # Copies: the session's object of the resource shares its opening hours' dict.
    known = Known(digest, copy.deepcopy(dict(values)), copy.deepcopy(dict(rules)))
    with _writing:
        kept = _kept.get(engine)
        if kept is None:
            kept = _kept[engine] = {}
        kept.pop(known.values["id"], None)  # to the end: the newest
        kept[known.values["id"]] = known
        while len(kept) > SIZE:
            del kept[next(iter(kept))]


def drop(engine: Engine, resource_id: int) -> None:
    """Forget the resource: it changed, or is no longer bookable."""
    with _writing:
        kept = _kept.get(engine)
        if kept is not None:
            kept.pop(resource_id, None)


def size(engine: Engine) -> int:
    """How many resources are kept for `engine`."""
    return len(_kept.get(engine) or ())
