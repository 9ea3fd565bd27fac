"""``ax serve``: the configured runtime, the application, the ASGI app, uvicorn.

The listening socket is bound here, before uvicorn starts, so an address in use or a bad
host is one line and exit 2 like every other command-line failure. uvicorn stops on SIGTERM
or SIGINT (finishing the requests in flight); the runtime closes after it.

Client addresses: the key network allow-list sees the TCP peer from the ASGI scope. Behind
a reverse proxy, set ``AX_TRUSTED_PROXIES`` to the proxy's addresses: uvicorn then takes the
client from ``X-Forwarded-For`` on connections from those addresses only.
"""

from __future__ import annotations

import signal
import socket
import sys

import uvicorn

from axapp.book_leases import BookLeases
from axapp.bootstrap import application, load_pepper
from axapp.config import Config
from axapp.http.app import create_app
from axapp.http.worker import SerialWorker
from axapp.runtime import open_runtime
from axdomain.errors import InvalidValue

PORT_MAX = 65_535
LISTEN_BACKLOG = 2048


def listen(host: str, port: int) -> socket.socket:
    if not 0 <= port <= PORT_MAX:
        raise InvalidValue("--port", port, f"must be in [0, {PORT_MAX}]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError as error:
        raise InvalidValue(
            "--host/--port", f"{host}:{port}", error.strerror or str(error)
        ) from None
    sock.set_inheritable(True)
    return sock


def _stopped(_signal: int, _frame: object) -> None:
    """SIGTERM after uvicorn's graceful shutdown: nothing left to do but return."""


def serve(config: Config, *, host: str, port: int) -> int:
    sock = listen(host, port)
    pepper = load_pepper(config)
    worker = SerialWorker()
    try:
        with open_runtime(config) as runtime:
            app = worker.run_blocking(lambda: application(runtime, pepper))
            api = create_app(app, config=config, worker=worker)
            trusted = config.trusted_proxies
            server = uvicorn.Server(
                uvicorn.Config(
                    api,
                    log_level="warning",
                    access_log=False,
                    lifespan="off",
                    proxy_headers=trusted is not None,
                    forwarded_allow_ips=trusted or "",
                    timeout_graceful_shutdown=5,
                )
            )
            bound_host, bound_port = sock.getsockname()[:2]
            sys.stdout.write(f"ax serve: listening on http://{bound_host}:{bound_port}\n")
            sys.stdout.flush()
            # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler it
            # found: a no-op here, so the runtime still closes and the exit code is 0.
            previous = signal.signal(signal.SIGTERM, _stopped)
            try:
                server.run(sockets=[sock])
            finally:
                signal.signal(signal.SIGTERM, previous)
            ownership = app.exchange.ownership
            if isinstance(ownership, BookLeases):  # hand the books over now, not after the TTL
                worker.run_blocking(ownership.release_all)
    finally:
        worker.close()
        sock.close()
    return 0
