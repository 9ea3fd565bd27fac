"""One typed error for a database that is down or fails mid-statement, never a driver trace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from axdomain.errors import DomainError

MAX_STORAGE_MESSAGE = 200


class StorageUnavailable(DomainError):
    """The database could not be reached or failed mid-statement."""


@contextlib.contextmanager
def storage_errors(engine: Engine) -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        lines = str(error.orig).strip().splitlines() or ["operational error"]
        raise StorageUnavailable(
            "database", engine.dialect.name, lines[0][:MAX_STORAGE_MESSAGE]
        ) from None
