"""One table model for every output: what a report shows, not how it looks.

``analyze``, ``run``, ``check`` and ``compare`` build Tables and Lines from their results;
flopcount.render draws them to a terminal, plain text, CSV or Markdown. A column is known by
its key and its kind, never by its title or position: a number column aligns right and is never
cut, a text column (names, types, paths) may wrap. Cells hold text as it is, or exact integers
that each renderer writes its own way (``1,290`` in a table, ``1290`` in CSV); escaping a name
for its output is the renderer's job, so a report never escapes and never formats for one format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT, NUMBER = "text", "number"
GOOD, BAD, STRONG = "good", "bad", "strong"  # what a span means; each renderer picks its look


@dataclass(frozen=True)
class Column:
    """A column: key is its identity, title what people read, kind TEXT or NUMBER."""

    key: str
    title: str
    kind: str = TEXT
    align: str = ""  # "left" or "right"; by default numbers right, text left

    @property
    def justify(self) -> str:
        return self.align or ("right" if self.kind == NUMBER else "left")


@dataclass(frozen=True)
class Span:
    """A piece of a cell or line with a meaning (GOOD, BAD, STRONG), such as a ✓."""

    text: str
    tone: str | None = None


# A cell: a str, an int (an exact figure), or a tuple of str and Span pieces.
Cell = "str | int | tuple[str | Span, ...]"


def cell_text(cell, thousands: bool = True) -> str:
    """A cell's text: integers with thousands separators (or bare digits for machines), pieces joined."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, int):
        return f"{cell:,}" if thousands else str(cell)
    return "".join(p.text if isinstance(p, Span) else p for p in cell)


@dataclass
class Line:
    """A line of text outside a table (a note, a verdict); empty for a blank line."""

    parts: tuple  # str and Span pieces

    @property
    def text(self) -> str:
        return cell_text(self.parts)


def line(*parts) -> Line:
    return Line(tuple(parts))


BOX, RULE, GRID = "box", "rule", "grid"


@dataclass
class Table:
    """Columns, rows of cells, a title above and footer lines below.

    frame: BOX draws every border with a heavy header, RULE only a rule under the header,
    GRID no lines and no header row (label and value pairs). level: 1 for a report's table,
    2 for one under it (a heading's depth in Markdown).
    """

    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    title: str = ""
    footer: list[Line] = field(default_factory=list)
    frame: str = BOX
    level: int = 1

    def add(self, *cells) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"a row of {len(cells)} cells in a table of {len(self.columns)} columns")
        self.rows.append(list(cells))


BARS, CURVE = "bars", "curve"


@dataclass
class Chart:
    """A figure per item (a layer, a group), drawn as bars or as a curve over the items.

    labels name the items (the tooltip of each bar); values are exact integers; unit says what they count.
    """

    title: str
    labels: list[str]
    values: list[int]
    unit: str = ""
    kind: str = BARS


@dataclass(frozen=True)
class Box:
    """A drawn node: a layer, or a run of layers each reading only the one before; pixels from the top left.

    layers holds the run's layer indices in order; lines are its label, already short enough for the box;
    title the lines of its full description (a tooltip); shade 0 (no MACs) to 4 (the costliest box's MACs).
    """

    x: int
    y: int
    width: int
    height: int
    layers: tuple[int, ...]
    lines: tuple[str, ...]
    title: tuple[str, ...]
    shade: int = 0


@dataclass(frozen=True)
class Edge:
    """One input connection from layer source to layer target, drawn through points (pixels, in order).

    long: drawn straight across the rows between, without a lane of its own.
    """

    source: int
    target: int
    points: tuple[tuple[int, int], ...]
    long: bool = False


@dataclass
class Drawing:
    """A laid-out drawing of a graph: boxes and edges at pixel positions in a width x height area.

    note says what the drawing shows (and what it leaves out); an empty drawing is just its note.
    """

    title: str
    boxes: list[Box]
    edges: list[Edge]
    width: int
    height: int
    note: str = ""


@dataclass(frozen=True)
class Dot:
    """A drawn point at pixel (x, y) with its label, its tooltip lines and its exact figures (data attributes)."""

    x: int
    y: int
    label: str
    title: tuple[str, ...]
    data: tuple[tuple[str, int], ...]


@dataclass
class Scatter:
    """A laid-out scatter chart: points, the lines joining series of them (point indices), and both axes.

    plot is the plotting area (left, top, right, bottom) in pixels; ticks are (pixel, text) along each axis.
    """

    title: str
    points: list[Dot]
    series: list[list[int]]
    width: int
    height: int
    plot: tuple[int, int, int, int]
    x_title: str
    y_title: str
    x_ticks: list[tuple[int, str]]
    y_ticks: list[tuple[int, str]]
    note: str = ""
