"""Typed doors to the two redis-py methods that ship without annotations.

Casting the bound method (rather than silencing the call) keeps every other line of the
adapters checked under ``mypy --strict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import redis
import redis.client


def watch(pipe: redis.client.Pipeline, *keys: str) -> None:
    """Put the pipeline in immediate mode, watching ``keys`` for the following MULTI."""
    cast(Callable[..., object], pipe.watch)(*keys)


def open_pubsub(client: redis.Redis) -> redis.client.PubSub:
    return cast(Callable[[], redis.client.PubSub], client.pubsub)()
