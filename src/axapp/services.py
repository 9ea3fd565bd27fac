"""Backing services as the command line and the HTTP shell see them: reachable or not.

A misconfigured or unreachable service must become one line naming the variable and what
is wrong, within a bounded time, never a driver traceback or a hang. ``preflight`` checks
every configured address with a TCP connect under ``CONNECT_TIMEOUT_MS`` before any driver
is loaded (the TigerBeetle client retries forever and logs each attempt on stderr, so it is
never started against an address that does not answer); ``unavailable_from`` turns a
driver's exception raised later into the same typed ``ServiceUnavailable``.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import attrs

from axapp.config import Config, ascii_decimal

CONNECT_TIMEOUT_MS = 3_000
PORT_MAX = 65_535
POSTGRES_DEFAULT_PORT = 5432
REDIS_DEFAULT_PORT = 6379
TIGERBEETLE_DEFAULT_PORT = 3001
MAX_SHOWN_LEN = 200


@attrs.frozen
class ServiceUnavailable(Exception):
    """A backing service that cannot be used: which one, through which variable, why."""

    service: str
    variable: str
    shown_value: str
    problem: str

    def line(self) -> str:
        return f"cannot reach {self.service} at {self.variable}={self.shown_value}: {self.problem}"

    def __str__(self) -> str:
        return self.line()


def redact_url(url: str) -> str:
    """The URL with any password replaced, cut to a printable length."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            url = parts._replace(netloc=netloc).geturl()
    except ValueError:
        pass
    shown = url if url.isprintable() else url.encode("unicode_escape").decode("ascii")
    return shown[:MAX_SHOWN_LEN]


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    if "connection refused" in str(error).lower():
        return "connection refused"
    return line[:MAX_SHOWN_LEN]


def _probe(host: str, port: int, timeout_ms: int) -> str | None:
    """None if something accepts TCP connections at host:port, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout_ms / 1000):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return f"no answer within {timeout_ms} ms"
    except OSError as error:
        return _first_line(error)


def _host_port(
    service: str, variable: str, url: str, schemes: tuple[str, ...], default_port: int
) -> tuple[str, int]:
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0]
        port = parts.port
    except ValueError as error:
        raise ServiceUnavailable(service, variable, shown, f"not a valid URL ({error})") from None
    if scheme not in schemes:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise ServiceUnavailable(service, variable, shown, f"not a URL (expected {wanted})")
    return parts.hostname or "localhost", port or default_port


def _check_database(url: str, timeout_ms: int) -> None:
    variable = "AX_DATABASE_URL"
    if url.startswith("sqlite"):
        if not url.startswith("sqlite:///") and url != "sqlite://":
            raise ServiceUnavailable("SQLite", variable, redact_url(url), "expected sqlite:///path")
        return
    host, port = _host_port(
        "PostgreSQL", variable, url, ("postgres", "postgresql"), POSTGRES_DEFAULT_PORT
    )
    if urlsplit(url).hostname is None and "host=" in url:
        return  # a socket directory in the query string: the driver connects
    problem = _probe(host, port, timeout_ms)
    if problem is not None:
        raise ServiceUnavailable("PostgreSQL", variable, redact_url(url), problem)


def _check_redis(url: str, timeout_ms: int) -> None:
    variable = "AX_REDIS_URL"
    host, port = _host_port("Redis", variable, url, ("redis", "rediss"), REDIS_DEFAULT_PORT)
    problem = _probe(host, port, timeout_ms)
    if problem is not None:
        raise ServiceUnavailable("Redis", variable, redact_url(url), problem)


def tigerbeetle_addresses(text: str) -> list[tuple[str, int]]:
    """``3000``, ``127.0.0.1:3000`` or several, comma separated (the client's syntax)."""
    variable = "AX_TIGERBEETLE_ADDRESSES"
    found: list[tuple[str, int]] = []
    for item in text.split(","):
        address = item.strip()
        host, _, port_text = address.rpartition(":")
        try:
            port = ascii_decimal(variable, port_text, PORT_MAX)
        except ValueError:
            raise ServiceUnavailable(
                "TigerBeetle", variable, redact_url(text), f"{address!r} is not [host:]port"
            ) from None
        found.append((host.strip("[]") or "127.0.0.1", port))
    return found


def _check_tigerbeetle(text: str, cluster_id: int, timeout_ms: int) -> None:
    variable = "AX_TIGERBEETLE_ADDRESSES"
    problems = []
    for host, port in tigerbeetle_addresses(text):
        problem = _probe(host, port, timeout_ms)
        if problem is None:
            break
        problems.append(problem)
    else:
        raise ServiceUnavailable("TigerBeetle", variable, redact_url(text), problems[0])
    problem = _tigerbeetle_handshake(text, cluster_id, timeout_ms)
    if problem is not None:
        raise ServiceUnavailable("TigerBeetle", variable, redact_url(text), problem)


def _tigerbeetle_handshake(text: str, cluster_id: int, timeout_ms: int) -> str | None:
    """One lookup on a daemon thread: something that accepts TCP but is not a replica of
    this cluster makes the client wait forever, so the wait is ours and bounded."""
    import threading

    answer: list[BaseException | None] = []

    def lookup() -> None:
        try:
            import tigerbeetle

            client = tigerbeetle.ClientSync(cluster_id=cluster_id, replica_addresses=text)
            client.lookup_accounts([1])
            client.close()
            answer.append(None)
        except Exception as error:
            answer.append(error)

    thread = threading.Thread(target=lookup, name="ax-tigerbeetle-probe", daemon=True)
    thread.start()
    thread.join(timeout_ms / 1000)
    if not answer:
        return f"no TigerBeetle answer within {timeout_ms} ms (wrong address or cluster id?)"
    error = answer[0]
    return None if error is None else _first_line(error)


def preflight(config: Config, timeout_ms: int = CONNECT_TIMEOUT_MS) -> None:
    """Every configured service answers a TCP connect, or one ``ServiceUnavailable``."""
    if config.database_url is not None:
        _check_database(config.database_url, timeout_ms)
    if config.redis_url is not None:
        _check_redis(config.redis_url, timeout_ms)
    if config.tigerbeetle_addresses is not None:
        _check_tigerbeetle(config.tigerbeetle_addresses, config.tigerbeetle_cluster_id, timeout_ms)


def unavailable_from(error: BaseException, config: Config) -> ServiceUnavailable | None:
    """A driver's exception as the service it came from; None for anything else."""
    module = type(error).__module__.split(".", 1)[0]
    if module in ("sqlalchemy", "psycopg", "sqlite3", "alembic"):
        url = config.effective_database_url
        service = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        variable = "AX_DATABASE_URL" if config.database_url else "AX_DATA_DIR"
        shown = redact_url(config.database_url or str(config.data_dir))
        cause = getattr(error, "orig", None) or error
        return ServiceUnavailable(service, variable, shown, _first_line(cause))
    if module == "redis" and config.redis_url is not None:
        return ServiceUnavailable(
            "Redis", "AX_REDIS_URL", redact_url(config.redis_url), _first_line(error)
        )
    if module == "tigerbeetle" and config.tigerbeetle_addresses is not None:
        shown = redact_url(config.tigerbeetle_addresses)
        return ServiceUnavailable(
            "TigerBeetle", "AX_TIGERBEETLE_ADDRESSES", shown, _first_line(error)
        )
    if isinstance(error, OSError | TimeoutError):
        return ServiceUnavailable(
            "storage", "AX_DATA_DIR", str(config.data_dir), _first_line(error)
        )
    return None
