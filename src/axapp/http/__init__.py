"""The HTTP shell (SPEC §12): an ASGI app over the use cases, served by ``ax serve``."""

from __future__ import annotations

from axapp.http.app import create_app

__all__ = ["create_app"]
