"""Small bar charts drawn on the server as SVG: integer geometry, no script, a title and a
description for screen readers, and a ``viewBox`` so the chart scales to a phone's width."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 600
BAR_AREA_HEIGHT = 160
LABEL_BAND = 24
ROW_HEIGHT = 28
LABEL_WIDTH = 260
LABEL_EVERY = 5


def bar_chart(
    chart_id: str, title: str, data: list[tuple[str, int]], *, horizontal: bool = False
) -> Markup:
    """``data`` is (label, count) pairs; counts are non-negative integers."""
    peak = max((n for _, n in data), default=0) or 1
    total = sum(n for _, n in data)
    desc = f"{len(data)} bars, {total} in all, at most {peak if total else 0} in one bar."
    parts = (_rows if horizontal else _columns)(data, peak)
    height = max(len(data), 1) * ROW_HEIGHT + 8 if horizontal else BAR_AREA_HEIGHT + LABEL_BAND
    head = (
        f'<svg id="{escape(chart_id)}" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    if not data:
        parts = ['<text x="8" y="20">nothing to draw</text>']
    return Markup(head + "".join(parts) + "</svg>")  # every text part is escaped above


def _columns(data: list[tuple[str, int]], peak: int) -> list[str]:
    step = WIDTH // max(len(data), 1)
    parts = [
        f'<line class="axis" x1="0" y1="{BAR_AREA_HEIGHT}" x2="{WIDTH}" y2="{BAR_AREA_HEIGHT}"/>',
        f'<text class="tick" x="4" y="12">peak {peak}</text>',
    ]
    for i, (label, n) in enumerate(data):
        h = n * (BAR_AREA_HEIGHT - 4) // peak
        x = i * step
        parts.append(
            f'<rect class="bar" x="{x + 1}" y="{BAR_AREA_HEIGHT - h}" width="{max(step - 2, 1)}" '
            f'height="{h}"><title>{escape(label)}: {n}</title></rect>'
        )
        if i % LABEL_EVERY == 0:
            parts.append(
                f'<text class="tick" x="{x}" y="{BAR_AREA_HEIGHT + 16}">{escape(label)}</text>'
            )
    return parts


def _rows(data: list[tuple[str, int]], peak: int) -> list[str]:
    room = WIDTH - LABEL_WIDTH - 40
    parts = []
    for i, (label, n) in enumerate(data):
        y = i * ROW_HEIGHT + 4
        w = n * room // peak
        parts.append(
            f'<text class="tick" x="0" y="{y + 16}">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{w}" height="{ROW_HEIGHT - 8}">'
            f"<title>{escape(label)}: {n}</title></rect>"
            f'<text class="tick" x="{LABEL_WIDTH + w + 4}" y="{y + 16}">{n}</text>'
        )
    return parts
