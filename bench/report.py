"""Benchmark results: rows of samples, the ratio against the peer, a table and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from measure import Samples


@dataclass(frozen=True)
class Row:
    """One side of one comparison.

    Each row is compared with the row of the same ``benchmark``, ``case`` and ``pair`` that
    is marked ``peer`` (the peer client, or for a ``pair`` such as ``"crypto only"`` the
    baseline). ``unit`` names what one sample times (``signature``, ``command``, ...).
    """

    benchmark: str
    case: str
    side: str
    samples: Samples
    unit: str
    peer: bool = False
    pair: str = ""

    @property
    def reps(self) -> str:
        count = len(self.samples.values)
        return f"{count}x{self.samples.batch}" if self.samples.batch > 1 else str(count)


def peer_of(row: Row, rows: Sequence[Row]) -> Row | None:
    """The peer row ``row`` is compared with (``None`` for a peer, or when there is none)."""
    if row.peer:
        return None
    return next(
        (
            r
            for r in rows
            if r.peer and (r.benchmark, r.case, r.pair) == (row.benchmark, row.case, row.pair)
        ),
        None,
    )


def speed_ratio(row: Row, peer: Row) -> float:
    """How many times faster ``row`` is than ``peer``, by median time (>1: ``row`` faster)."""
    return peer.samples.median / row.samples.median


def format_seconds(value: float) -> str:
    """A duration in us, ms or s, with three or four significant digits."""
    for scale, unit in ((1e-3, "us"), (1.0, "ms")):
        if value < scale:
            return f"{_three_digits(value * 1e3 / scale)} {unit}"
    return f"{value:.3f} s"


def _three_digits(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def format_rate(seconds: float) -> str:
    per_second = 1.0 / seconds
    return f"{per_second:,.0f}/s" if per_second >= 10 else f"{per_second:.2f}/s"


_HEADINGS = ("case", "side", "reps", "median", "min", "max", "rate", "vs peer")


def table(rows: Sequence[Row]) -> str:
    """The results as an aligned text table, one block per benchmark."""
    lines: list[list[str]] = []
    benchmarks = list(dict.fromkeys(r.benchmark for r in rows))
    for benchmark in benchmarks:
        lines.append([f"[{benchmark}]"])
        for row in (r for r in rows if r.benchmark == benchmark):
            peer = peer_of(row, rows)
            if row.peer:
                ratio = "baseline" if row.pair else "peer"
            elif peer is None:
                ratio = "-"
            else:
                ratio = f"{speed_ratio(row, peer):.2f}x"
            s = row.samples
            lines.append(
                [
                    row.case,
                    f"{row.side} [{row.pair}]" if row.pair else row.side,
                    row.reps,
                    format_seconds(s.median),
                    format_seconds(s.min),
                    format_seconds(s.max),
                    f"{format_rate(s.median)} {row.unit}s",
                    ratio,
                ]
            )
    widths = [
        max([len(h), *(len(line[i]) for line in lines if len(line) > 1)])
        for i, h in enumerate(_HEADINGS)
    ]
    right = {2, 3, 4, 5, 6, 7}

    def render(cells: Sequence[str]) -> str:
        if len(cells) == 1:
            return cells[0]
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    header = render(_HEADINGS)
    return "\n".join([header, "-" * len(header), *(render(line) for line in lines)])


def as_json(rows: Sequence[Row], context: dict[str, Any]) -> dict[str, Any]:
    """Every sample, the medians and ratios, and the run's context, for ``--json``."""
    results = []
    for row in rows:
        peer = peer_of(row, rows)
        results.append(
            {
                "benchmark": row.benchmark,
                "case": row.case,
                "side": row.side,
                "peer": row.peer,
                "pair": row.pair,
                "unit": row.unit,
                "batch": row.samples.batch,
                "seconds": list(row.samples.values),
                "median_seconds": row.samples.median,
                "min_seconds": row.samples.min,
                "max_seconds": row.samples.max,
                "speed_vs_peer": None if peer is None else speed_ratio(row, peer),
            }
        )
    return {"context": context, "results": results}
