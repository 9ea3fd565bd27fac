"""``ax demo``: the end-to-end scenario on embedded defaults."""

from __future__ import annotations

from typing import TextIO


def run_demo(out: TextIO) -> int:
    out.write("ax demo: under construction\n")
    return 0
