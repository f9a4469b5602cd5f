"""Which CloudAPI operations the emulator implements, read off its route table.

``python -m smartdc.emulator.coverage`` prints a markdown table of every operation in
:data:`smartdc.operations.OPERATIONS` with whether a route serves it, then
``N of 126 implemented``, then the routes served that CloudAPI's operation list leaves out.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from smartdc.emulator.context import Route
from smartdc.emulator.routes import all_routes
from smartdc.operations import OPERATIONS, Operation


@dataclass(frozen=True)
class Coverage:
    """The operation list split by whether the route table serves each operation."""

    implemented: tuple[Operation, ...]
    missing: tuple[Operation, ...]
    #: Routes whose operation is not in the list (CloudAPI serves them unlisted).
    unlisted: tuple[Route, ...]

    def is_implemented(self, operation: Operation) -> bool:
        return operation in self.implemented

    @property
    def summary(self) -> str:
        """``"<implemented> of <all> implemented"``."""
        total = len(self.implemented) + len(self.missing)
        return f"{len(self.implemented)} of {total} implemented"


def coverage(routes: Sequence[Route] | None = None) -> Coverage:
    """Compare ``routes`` (default: the emulator's) with CloudAPI's operation list."""
    table = all_routes() if routes is None else list(routes)
    served = {route.operation for route in table}
    listed = {operation.name for operation in OPERATIONS}
    return Coverage(
        implemented=tuple(op for op in OPERATIONS if op.name in served),
        missing=tuple(op for op in OPERATIONS if op.name not in served),
        unlisted=tuple(route for route in table if route.operation not in listed),
    )


def render_markdown(report: Coverage) -> str:
    """The report as a markdown table, the count line, and any unlisted routes."""
    lines = ["| operation | method | path | emulator |", "|---|---|---|---|"]
    for operation in OPERATIONS:
        mark = "yes" if report.is_implemented(operation) else "no"
        lines.append(f"| {operation.name} | {operation.method} | `{operation.path}` | {mark} |")
    lines += ["", report.summary]
    if report.unlisted:
        lines += ["", "Also served, though CloudAPI's operation list leaves them out:"]
        lines += [f"- {r.operation} ({r.method} `{r.path}`)" for r in report.unlisted]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage report; no options."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments:
        print("usage: python -m smartdc.emulator.coverage  (takes no arguments)", file=sys.stderr)
        return 2
    sys.stdout.write(render_markdown(coverage()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
