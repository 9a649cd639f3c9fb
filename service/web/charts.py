"""Charts as inline SVG, built on the server: no chart library, no script, nothing for the CSP to allow.

Colours are SVG presentation attributes (not ``style``); every label is escaped.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart", "line_chart"]


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value, the scale it is drawn against (e.g. a theme's weight) and colour."""

    label: str
    value: float
    maximum: float | None = None
    colour: str = "#154273"
    indent: bool = False
    title: str | None = None


def _fmt(v: float, locale: str) -> str:
    text = f"{v:.2f}"
    return text.replace(".", ",") if locale == "nl" else text


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str = "", locale: str = "nl", width: int = 680,
              label_width: int = 270, row: int = 24, css_class: str = "pw-chart") -> Markup:
    """Horizontal bars, one row each; a light track shows ``maximum`` where given."""
    if not bars:
        return Markup("")
    top = max([b.maximum or 0 for b in bars] + [b.value for b in bars] + [1e-9])
    bar_w = width - label_width - 90
    height = row * len(bars) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, b in enumerate(bars):
        y = 4 + i * row
        x0 = label_width + (0 if not b.indent else 0)
        label = ("  " if b.indent else "") + b.label
        weight = "normal" if b.indent else "600"
        tip = f"{escape(b.title or b.label)}: {escape(_fmt(b.value, locale))} {escape(unit)}"
        out.append(f'<g class="pw-row"><title>{tip}</title>')
        out.append(f'<text x="{label_width - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" font-size="13" '
                   f'font-weight="{weight}" fill="#1b1b1b">{escape(_cut(label, 34))}</text>')
        if b.maximum:
            w = bar_w * b.maximum / top
            out.append(f'<rect class="track" x="{x0}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                       'fill="#e6e9ed"/>')
        w = max(0.0, bar_w * b.value / top)
        out.append(f'<rect class="bar" x="{x0}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                   f'fill="{escape(b.colour)}"/>')
        label_x = x0 + max(w, (bar_w * b.maximum / top) if b.maximum else 0) + 6
        out.append(f'<text x="{label_x:.1f}" y="{y + row * 0.65:.1f}" '
                   f'font-size="12" fill="#333">{escape(_fmt(b.value, locale))}'
                   + (f' / {escape(_fmt(b.maximum, locale))}' if b.maximum else "") + "</text></g>")
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(points: Sequence[tuple[str, float]], *, title: str, thresholds: Sequence[tuple[str, float, str]] = (),
               locale: str = "nl", width: int = 680, height: int = 220, css_class: str = "pw-chart") -> Markup:
    """A score line over runs (label, value), with dashed lines at the class thresholds (label, value, colour)."""
    if not points:
        return Markup("")
    left, right, top_m, bottom = 44, 16, 12, 40
    values = [v for _, v in points]
    ymax = max(values + [t[1] for t in thresholds] + [10.0])
    ymax = math.ceil(ymax * 1.1 / 10) * 10
    pw, ph = width - left - right, height - top_m - bottom

    def sx(i: int) -> float:
        return left + (pw / 2 if len(points) == 1 else pw * i / (len(points) - 1))

    def sy(v: float) -> float:
        return top_m + ph * (1 - v / ymax)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for k in range(0, 6):
        v = ymax * k / 5
        y = sy(v)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">{v:.0f}</text>')
    for label, v, colour in thresholds:
        y = sy(v)
        out.append(f'<line class="threshold" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{escape(colour)}" stroke-dasharray="5 4"/>')
        out.append(f'<text x="{width - right - 4}" y="{y - 4:.1f}" text-anchor="end" font-size="11" '
                   f'fill="{escape(colour)}">{escape(label)}</text>')
    coords = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(values))
    out.append(f'<polyline class="line" points="{coords}" fill="none" stroke="#154273" stroke-width="2.5"/>')
    step = max(1, math.ceil(len(points) / 8))
    for i, (label, v) in enumerate(points):
        out.append(f'<circle class="point" cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="4" fill="#154273">'
                   f'<title>{escape(label)}: {escape(_fmt(v, locale))}</title></circle>')
        if i % step == 0 or i == len(points) - 1:
            out.append(f'<text x="{sx(i):.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="11" '
                       f'fill="#333">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
