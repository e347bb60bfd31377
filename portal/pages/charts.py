"""Charts drawn on the server as SVG geometry (bars or a line) for `_chart.html`; no script."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 24, 52
TICKS = 4


@dataclass(frozen=True)
class Mark:
    """One data point: its label and value, its bar (or dot) and where its texts go."""

    label: str
    axis_label: str
    axis_note: str
    value: float
    x: float
    y: float
    width: float
    height: float
    centre: float

    @property
    def text(self) -> str:
        """The value as the chart writes it (thousands separated, so a city's counts stay
        readable: 1,250,000, not 1.25e+06)."""
        return _number(self.value)


@dataclass(frozen=True)
class Chart:
    """A chart ready to draw: marks, y-axis ticks and, for a line chart, the line's points."""

    kind: str
    title: str
    width: int
    height: int
    marks: tuple[Mark, ...]
    ticks: tuple[tuple[float, str], ...]
    baseline: float
    left: int
    right: float
    points: str

    @property
    def empty(self) -> bool:
        """Whether every value is zero (the page says so instead of drawing nothing)."""
        return not any(mark.value for mark in self.marks)


def bar_chart(title: str, series: Sequence[tuple[str, float]], *, monthly: bool = False) -> Chart:
    """A bar chart of labelled values (`monthly`: the labels are `YYYY-MM`)."""
    return _chart("bar", title, series, monthly)


def line_chart(title: str, series: Sequence[tuple[str, float]], *, monthly: bool = False) -> Chart:
    """A line chart of labelled values (`monthly`: the labels are `YYYY-MM`)."""
    return _chart("line", title, series, monthly)


def nice_step(value: float) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value`, at least 1 (whole-number ticks)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _axis_labels(label: str, index: int, monthly: bool) -> tuple[str, str]:
    """What the axis shows under a mark: a month as `MM` with its year under the first and
    under each January; any other label as it is."""
    if not monthly:
        return label, ""
    year, month = label.split("-")
    return month, year if index == 0 or month == "01" else ""


def _chart(kind: str, title: str, series: Sequence[tuple[str, float]], monthly: bool) -> Chart:
    top = nice_step(max((value for _, value in series), default=0) / TICKS) * TICKS
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(len(series), 1)
    bar = min(slot * 0.6, 56)
    marks = []
    for index, (label, value) in enumerate(series):
        height = plot_height * value / top
        centre = LEFT + slot * (index + 0.5)
        axis_label, axis_note = _axis_labels(label, index, monthly)
        marks.append(Mark(label=label, axis_label=axis_label, axis_note=axis_note, value=value,
                          x=round(centre - bar / 2, 1), y=round(baseline - height, 1),
                          width=round(bar, 1), height=round(height, 1), centre=round(centre, 1)))
    ticks = tuple((round(baseline - plot_height * step / TICKS, 1), _number(top * step / TICKS))
                  for step in range(TICKS + 1))
    points = " ".join(f"{mark.centre},{mark.y}" for mark in marks)
    return Chart(kind=kind, title=title, width=WIDTH, height=HEIGHT, marks=tuple(marks),
                 ticks=ticks, baseline=baseline, left=LEFT, right=WIDTH - RIGHT, points=points)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")
