"""Bar charts drawn on the server as SVG (no JavaScript, no third-party script): the geometry
here, the markup in ``templates/staff/_chart.html`` (a title and a description for screen
readers, and the same figures as a table); and the statistics' charts and figures as the
dashboard and the statistics page show them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from engine.dossiers.statistics import Statistics, percent
from engine.fields.common import format_decimal

WIDTH: Final = 640
HEIGHT: Final = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 28
#: at most this many labels under the bars
MAX_LABELS: Final = 12


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    #: "03/06 : 12 dossiers", the tooltip and the bar's accessible name
    text: str


@dataclass(frozen=True, slots=True)
class Point:
    """One bar's figures: its label under the axis, its height, the cells of its table row
    (the label first)."""

    label: str
    value: float
    cells: Sequence[str]


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    description: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    bars: Sequence[Bar]
    #: (y, text) of the vertical axis, (x, text) under the bars
    ticks: Sequence[tuple[float, str]]
    labels: Sequence[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM


def bar_chart(chart_id: str, title: str, description: str, columns: Sequence[str],
              points: Sequence[Point], *, top: float | None = None, unit: str = "") -> Chart:
    """Bars of ``points`` on a scale from 0 to ``top`` (default: the largest value)."""
    highest = top if top is not None else max((p.value for p in points), default=0)
    highest = highest or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, len(points))
    bars, labels = [], []
    every = math.ceil(len(points) / MAX_LABELS) if points else 1
    for n, point in enumerate(points):
        height = plot_height * min(point.value, highest) / highest
        x = LEFT + n * step
        bars.append(Bar(round(x + step * 0.1, 1), round(TOP + plot_height - height, 1),
                        round(step * 0.8, 1), round(height, 1),
                        f"{point.label} : {_number(point.value)}{unit}"))
        if n % every == 0:
            labels.append((round(x + step / 2, 1), point.label))
    ticks = [(round(TOP + plot_height * (1 - f), 1), f"{_number(highest * f)}{unit}")
             for f in (0, 0.5, 1)]
    return Chart(chart_id, title, description, columns, [list(p.cells) for p in points],
                 bars, ticks, labels)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def duration_text(value: timedelta | None) -> str:
    """« 2 j 3 h », « 3 h 20 min », « 12 min »."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}\u00a0j {hours}\u00a0h"
    return f"{hours}\u00a0h {minutes:02d}\u00a0min" if hours else f"{minutes}\u00a0min"


def percent_text(value: int | None) -> str:
    return "—" if value is None else f"{value}\u00a0%"


def average_text(stats: Statistics) -> str:
    return "—" if stats.average is None else f"{format_decimal(stats.average)}\u00a0/\u00a05"


def sent_per_day(stats: Statistics, chart_id: str = "envois") -> Chart:
    """The dossiers sent each day, as a share of the dossiers opened to families."""
    points = [Point(f"{d.day:%d/%m}", d.sent, [
        f"{d.day:%d/%m/%Y}", str(d.sent), percent_text(percent(d.sent, stats.opened)),
        percent_text(percent(d.cumulative, stats.opened))]) for d in stats.days()]
    return bar_chart(chart_id, "Dossiers envoyés par jour",
                     f"{stats.sent} dossiers envoyés sur {stats.opened}, du premier au dernier "
                     f"jour d'envoi ; une barre par jour.",
                     ["Jour", "Envoyés ce jour", "Part des dossiers", "Cumul"], points)


def progress_over_time(stats: Statistics, chart_id: str = "avancement-courbe") -> Chart:
    """The share of dossiers sent by the end of each day (the dashboard's progress)."""
    points = [Point(f"{d.day:%d/%m}", percent(d.cumulative, stats.opened) or 0, [
        f"{d.day:%d/%m/%Y}", str(d.cumulative), percent_text(percent(d.cumulative, stats.opened))])
        for d in stats.days()]
    return bar_chart(chart_id, "Part des dossiers envoyés, jour après jour",
                     f"Taux de retour cumulé jusqu'à {percent_text(stats.take_up)} ; une barre "
                     "par jour.", ["Jour", "Dossiers envoyés", "Part des dossiers"], points,
                     top=100, unit="\u00a0%")


def scores_chart(stats: Statistics) -> Chart:
    points = [Point(f"{score}/5", stats.scores.get(score, 0), [
        f"{score} / 5", str(stats.scores.get(score, 0)),
        percent_text(percent(stats.scores.get(score, 0), stats.ratings))]) for score in range(1, 6)]
    return bar_chart("notes", "Répartition des notes de satisfaction",
                     f"{stats.ratings} notes, moyenne {average_text(stats)}.",
                     ["Note", "Personnes", "Part des notes"], points)
