"""The console over the shared test world (memory stores, manual clock), driven by
starlette's in-process client: one client per person, each with its own cookie jar."""

from __future__ import annotations

import re

from fastapi import FastAPI
from httpx import Response
from starlette.testclient import TestClient

from axapp.bootstrap import create_operator
from axapp.http import create_app
from tests.app_support import PEPPER, World

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class Console:
    def __init__(self, world: World, base_url: str = "http://127.0.0.1") -> None:
        self.world = world
        self.api = _shared_api()
        self.api.state.shell.app = world.app
        self.base_url = base_url
        self.ops_token = create_operator(world.app.stores, "console-ops", PEPPER)

    def client(self) -> TestClient:
        return TestClient(self.api, base_url=self.base_url)

    def login(self, client: TestClient, token: str) -> Response:
        """The login form, filled in: the answer, not followed."""
        form = client.get("/ui/login")
        return client.post(
            "/ui/login", data={"csrf": csrf_of(form.text), "token": token}, follow_redirects=False
        )

    def logged_in(self, token: str) -> TestClient:
        client = self.client()
        answer = self.login(client, token)
        assert answer.status_code == 303, answer.text
        return client

    def session(self, user_id: object) -> str:
        return self.world.app.operator.issue_session(self.world.ops, user_id)


_API: list[FastAPI] = []


def _shared_api() -> FastAPI:
    """One app for the run (building the routes once keeps the tests fast); each test puts
    its own world behind it, which the pages read at call time."""
    if not _API:
        _API.append(create_app(World.build().app))
    return _API[0]


def session_cookie(answer: Response) -> str:
    return next(c for c in answer.headers.get_list("set-cookie") if c.startswith("ax_console="))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)
