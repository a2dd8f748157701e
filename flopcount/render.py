"""Draw reports (flopcount.table) to a terminal, to plain text, to CSV and to Markdown.

The only module that imports rich. A renderer draws the Tables and Lines a report built: it
never computes a figure and knows a column only by its kind and alignment. Adding an output
format is one more function taking the same blocks.

Any name can reach a report (spec, layer and file names are user text), so each format
escapes for itself:

- terminal and plain text: control characters, lone surrogates and other unprintable
  characters are shown as Python escapes (``\\x1b``, ``\\n``, ``\\ud800``), so a name can
  neither move the cursor nor split a row; on a stream that cannot encode a character
  (a cp1252 log) borders become ASCII and symbols such as ✓ a plain word.
- Markdown: the same escapes, then ``\\``, ``|``, ``<``, ``>``, ``&``, ``[``, ``]`` and `````
  backslash-escaped, so every row keeps its columns and no name becomes a tag or a link.
- CSV: names as written, tabs and line breaks included (a cell holding a comma, quote, CR or
  LF is quoted), other unprintable characters escaped as on a terminal (an escape sequence
  would reach a terminal showing the CSV; NUL and lone surrogates cannot be written); a text
  cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a CR gets a leading ``'`` so a
  spreadsheet does not run it as a formula. Numbers are bare digits, never prefixed.
"""

from __future__ import annotations

import re

from .table import (
    BAD,
    BARS,
    BOX,
    GOOD,
    GRID,
    NUMBER,
    STRONG,
    Chart,
    Drawing,
    Line,
    Scatter,
    Span,
    Table,
    cell_text,
)

LARGE = 1000  # rows beyond which rich's per-cell layout (about 1 ms a row) is too slow even for a terminal
TEXT_FLOOR = 6  # a terminal too narrow for the table squeezes text columns down to this many cells, never numbers
STYLE = {GOOD: "green", BAD: "red", STRONG: "bold"}


# ---------------------------------------------------------------- text every format shares


def visible(text: str) -> str:
    """Unprintable characters (controls, lone surrogates, bidi overrides) as Python escapes; the rest as is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


ASCII_FALLBACK = {"✓": "OK", "✗": "X", "×": "x", "→": "->", "…": "...", "²": "^2", "·": "*", "─": "-", "—": "-"}


def encodable(text: str, encoding: str) -> str:
    """text, with characters the stream's encoding lacks as ASCII words or backslash escapes."""
    if _unicode(encoding) or text.isascii():
        return text
    out = []
    for c in text:
        try:
            c.encode(encoding)
            out.append(c)
        except (UnicodeEncodeError, LookupError):
            out.append(ASCII_FALLBACK.get(c) or c.encode("ascii", "backslashreplace").decode())
    return "".join(out)


def _unicode(encoding: str | None) -> bool:
    return (encoding or "utf-8").lower().replace("_", "-").startswith("utf")


def _shown(encoding):
    """The function that makes a text showable on a stream of this encoding."""
    if _unicode(encoding):
        return visible
    return lambda text: encodable(visible(text), encoding)


# ---------------------------------------------------------------- plain text (pipes, files; rich's layout drawn directly)


def _boxes(frame: str, ascii_only: bool):
    from rich import box

    if frame == GRID:
        return None
    return box.ASCII if ascii_only else (box.HEAVY_HEAD if frame == BOX else box.SIMPLE_HEAD)


def _overhead(frame: str, n: int) -> int:
    """Cells a table's borders and padding take beyond its columns' widths."""
    return 2 * (n - 1) if frame == GRID else 3 * n + 1


def _layout(table: Table, show):
    """(headers, rows, natural widths) as shown; widths in terminal cells."""
    from rich.cells import cell_len

    heads = [show(c.title) for c in table.columns]
    rows = [[show(c if type(c) is str else cell_text(c)) for c in row] for row in table.rows]
    measured = [] if table.frame == GRID else [heads]
    widths = [0] * len(table.columns)
    for row in measured + rows:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text) if text.isascii() else cell_len(text))
    return heads, rows, widths


def _fill(text: str, width: int, justify: str) -> str:
    from rich.cells import cell_len

    gap = width - (len(text) if text.isascii() else cell_len(text))
    return " " * gap + text if justify == "right" else text + " " * gap


def plain_table(table: Table, encoding: str = "utf-8") -> list[str]:
    """The lines rich draws for this table at its natural width: nothing wraps, nothing is cut."""
    show = _shown(encoding)
    heads, rows, widths = _layout(table, show)
    justify = [c.justify for c in table.columns]
    box = _boxes(table.frame, not _unicode(encoding))
    footer = [show(f.text) for f in table.footer]
    if box is None:  # a grid: two spaces between columns, no borders, no header
        return ["  ".join(_fill(t, w, j) for t, w, j in zip(row, widths, justify)) for row in rows] + footer

    def row_line(cells, left, bar, right):
        return left + bar.join(f" {_fill(t, w, j)} " for t, w, j in zip(cells, widths, justify)) + right

    padded = [w + 2 for w in widths]
    body = [
        box.get_top(padded),
        row_line(heads, box.head_left, box.head_vertical, box.head_right),
        box.get_row(padded, "head"),
    ]
    body += [row_line(r, box.mid_left, box.mid_vertical, box.mid_right) for r in rows]
    body.append(box.get_bottom(padded))
    if table.title:  # rich pads the title to the table's width; a longer title stays whole
        body.insert(0, _fill(show(table.title), len(body[0]), "left"))
    return body + footer


def to_plain(blocks, encoding: str = "utf-8") -> str:
    """Tables and lines as text for a pipe or a file, one string ending in a newline."""
    out = []
    for block in blocks:
        if isinstance(block, Table):
            out += plain_table(block, encoding)
        else:
            out.append(encodable(visible(block.text), encoding))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- terminal (rich)


def console(stderr: bool = False):
    """A rich console for the CLI: text printed as written (no markup, emoji codes or highlighting)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self):  # rich would exit 1, the drift status; the CLI decides
            raise BrokenPipeError

    return _Console(highlight=False, markup=False, emoji=False, stderr=stderr)


def _rich_text(cell, show):
    from rich.text import Text

    if isinstance(cell, tuple):
        return Text.assemble(*((show(p.text), STYLE.get(p.tone)) if isinstance(p, Span) else show(p) for p in cell))
    return Text(show(cell_text(cell)))


def _rich_table(table: Table, width: int, show):
    """table as a rich Table; numbers keep their width, text columns fold when the terminal is narrow."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    _, _, widths = _layout(table, show)
    if table.frame == GRID:
        out = RichTable.grid(padding=(0, 2))
    else:
        out = RichTable(
            title=Text(show(table.title)) if table.title else None,
            title_justify="left",
            header_style="bold",
            box=box.HEAVY_HEAD if table.frame == BOX else box.SIMPLE_HEAD,
        )
    least = _overhead(table.frame, len(widths))
    for column, natural in zip(table.columns, widths):
        if column.kind == NUMBER:
            out.add_column(show(column.title), justify=column.justify, no_wrap=True, min_width=natural)
            least += natural
        else:
            floor = min(natural, TEXT_FLOOR)
            out.add_column(show(column.title), justify=column.justify, overflow="fold", min_width=floor)
            least += floor
    if least > width:  # narrower than the numbers need: the table keeps its least width and lines run on
        out.width = least
    for row in table.rows:
        out.add_row(*(_rich_text(cell, show) for cell in row))
    return out


def to_console(blocks, console) -> None:
    """Print tables and lines: rich's layout, fitted and coloured, on a terminal; the plain drawing elsewhere."""
    encoding = console.encoding
    if not console.is_terminal:  # already escaped and encodable: written as is, past rich's line splitting
        console.file.write(to_plain(blocks, encoding))
        return
    show = _shown(encoding)
    for block in blocks:
        if isinstance(block, Line):
            console.print(_rich_text(block.parts, show), soft_wrap=True)
        elif len(block.rows) > LARGE:  # rich's layout would take seconds: the plain drawing, lines run on
            console.file.write("\n".join(plain_table(block, encoding)) + "\n")
        else:
            console.print(_rich_table(block, console.width, show), crop=False)
            for f in block.footer:
                console.print(_rich_text(f.parts, show), soft_wrap=True)


# ---------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\|<>&\[\]`])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#>*+=-]|\d+[.)])")


def md(text: str) -> str:
    """Text safe inside a Markdown table cell or paragraph: escapes, then Markdown's special characters."""
    return _MD_SPECIAL.sub(r"\\\1", visible(text))


def _md_line(text: str) -> str:
    """A paragraph line that cannot turn into a heading, quote or list item."""
    return _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), md(text), count=1)


def markdown_table(table: Table) -> str:
    heads = [md(c.title) for c in table.columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
    lines += ["| " + " | ".join(md(cell_text(c)) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def to_markdown(blocks) -> str:
    """GitHub-flavoured Markdown: titles as headings, tables, lines as paragraphs."""
    parts = []
    for block in blocks:
        if isinstance(block, Table):
            if block.title:
                parts.append("#" * (2 + block.level) + " " + md(block.title))
            parts.append(markdown_table(block))
            parts += [_md_line(f.text) for f in block.footer]
        elif block.text:
            parts.append(_md_line(block.text))
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- CSV

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    if not text.isprintable():  # tabs and line breaks are data; escape sequences, NUL or a lone surrogate are not
        text = "".join(c if c in "\t\r\n" else visible(c) for c in text)
    if text.startswith(FORMULA_START):
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def to_csv(table: Table) -> str:
    """A header of column keys, then one line per row; exact integers as bare digits."""
    lines = [",".join(_csv_text(c.key) for c in table.columns)]
    for row in table.rows:
        lines.append(",".join(str(cell) if isinstance(cell, int) else _csv_text(cell_text(cell)) for cell in row))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- progress of a run


def run_progress(console, enabled: bool = True):
    """A context yielding a progress(done, total, node) callback for a transient bar, or None when off or not a terminal."""
    from contextlib import contextmanager

    @contextmanager
    def bar():
        if not enabled or not console.is_terminal:
            yield None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("running", total=None)

            def advance(done, total, node):
                progress.update(task, completed=done, total=total, description=f"ran {visible(node.name)}")

            yield advance

    return bar()


# ---------------------------------------------------------------- HTML (one self-contained file)

COLOURS = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #666; --rule: #d0d0d0; --bar: #c8362b;
        --curve: #1f5fbf; --head: #f1f1f1; --good: #1a7f37; --bad: #c8362b;
        --s0: #f4f4f4; --s1: #fbe4df; --s2: #f6bcb1; --s3: #ee8f7f; --s4: #e2624f; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e6; --bg: #16181c; --muted: #9a9a9a; --rule: #3a3d44; --bar: #ff7a6b; --curve: #7fb2ff;
          --head: #23262c; --good: #5bd17a; --bad: #ff7a6b;
          --s0: #23262c; --s1: #3b2b2b; --s2: #5a3330; --s3: #7e3b34; --s4: #a5453a; }
}
"""

SCATTER_STYLE = """
svg.scatter { display: block; font-size: 12px; font-family: system-ui, sans-serif; background: var(--bg); }
svg.scatter .axis { fill: none; stroke: var(--muted); } svg.scatter line.grid { stroke: var(--rule); stroke-width: 0.6; }
svg.scatter text { fill: var(--fg); } svg.scatter text.tick { fill: var(--muted); }
svg.scatter circle { fill: var(--curve); } svg.scatter polyline { fill: none; stroke: var(--curve); opacity: 0.35; }
"""

HTML_STYLE = (
    COLOURS
    + SCATTER_STYLE
    + """
body { font-family: system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 1.5rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.2rem 0.6rem; }
th { background: var(--head); position: sticky; top: 0; cursor: pointer; user-select: none; }
td.n, th.n { text-align: right; white-space: nowrap; }
.scroll { max-height: 70vh; overflow: auto; border: 1px solid var(--rule); }
svg.chart { width: 100%; height: 140px; display: block; border-bottom: 1px solid var(--rule); }
svg.chart path { fill: var(--bar); }
svg.chart polyline { fill: none; stroke: var(--curve); stroke-width: 2; vector-effect: non-scaling-stroke; }
.note { color: var(--muted); } .good { color: var(--good); } .bad { color: var(--bad); } .strong { font-weight: bold; }
svg.graph { display: block; font-size: 12px; }
svg.graph rect { fill: var(--s0); stroke: var(--rule); }
svg.graph .s1 rect { fill: var(--s1); } svg.graph .s2 rect { fill: var(--s2); }
svg.graph .s3 rect { fill: var(--s3); } svg.graph .s4 rect { fill: var(--s4); }
svg.graph text { fill: var(--fg); } svg.graph text.sub { fill: var(--muted); }
svg.graph .s4 text.sub, svg.graph .s3 text.sub { fill: var(--fg); }
svg.graph path.edge { fill: none; stroke: var(--muted); stroke-width: 1.2; }
svg.graph path.long { stroke-dasharray: 4 3; } svg.graph marker path { fill: var(--muted); }
input[type=search] { font: inherit; padding: 0.2rem 0.4rem; margin: 0.5rem 0; min-width: 18rem; }
"""
)

HTML_SCRIPT = """
function complete(table) {
  var rest = document.getElementById(table.id + '-rest');
  if (!rest) return;
  table.tBodies[0].insertAdjacentHTML('beforeend', JSON.parse(rest.textContent).join(''));
  rest.remove();
  var button = document.querySelector('button[data-rest="' + table.id + '"]');
  if (button) button.remove();
}
document.querySelectorAll('button[data-rest]').forEach(function (button) {
  button.addEventListener('click', function () { complete(document.getElementById(button.dataset.rest)); });
});
document.querySelectorAll('table.sortable').forEach(function (table) {
  var body = table.tBodies[0];
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      complete(table);
      var down = th.dataset.order !== 'desc';
      th.dataset.order = down ? 'desc' : 'asc';
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (row) { var c = row.cells[col]; return c.dataset.v !== undefined ? Number(c.dataset.v) : c.textContent; };
      rows.sort(function (a, b) { var x = key(a), y = key(b); var r = x < y ? -1 : x > y ? 1 : 0; return down ? -r : r; });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      body.appendChild(frag);
    });
  });
});
var labels = JSON.parse(document.getElementById('labels').textContent);
document.querySelectorAll('svg.chart').forEach(function (svg) {
  var values = svg.dataset.values.split(','), hover = svg.previousElementSibling.querySelector('.hover');
  svg.addEventListener('mousemove', function (e) {
    var box = svg.getBoundingClientRect(), i = Math.floor((e.clientX - box.left) / box.width * values.length);
    if (i >= 0 && i < values.length) hover.textContent = labels[i] + ': ' + Number(values[i]).toLocaleString() + ' ' + svg.dataset.unit;
  });
});
document.querySelectorAll('input[data-filter]').forEach(function (input) {
  var table = document.getElementById(input.dataset.filter), body = table.tBodies[0];
  input.addEventListener('input', function () {
    complete(table);
    var q = input.value.toLowerCase();
    Array.prototype.forEach.call(body.rows, function (row) {
      row.style.display = !q || row.dataset.key.indexOf(q) >= 0 ? '' : 'none';
    });
  });
});
"""


def _html(text: str) -> str:
    import html

    return html.escape(visible(text), quote=True)


def _html_parts(parts) -> str:
    out = []
    for p in parts:
        if isinstance(p, Span):
            out.append(f'<span class="{p.tone}">{_html(p.text)}</span>' if p.tone else _html(p.text))
        else:
            out.append(_html(p))
    return "".join(out)


def _html_cell(cell) -> str:
    return _html_parts(cell) if isinstance(cell, tuple) else _html(cell_text(cell))


HTML_ROWS = (
    1000  # rows laid out when the page opens; the rest wait in the page until asked for (sort, filter, a button)
)


def _json_script(ident: str, data) -> str:
    """Data in the page as JSON that no text can end early (every '<' escaped)."""
    import json

    text = json.dumps(data).replace("<", "\\u003c")
    return f'<script type="application/json" id="{ident}">{text}</script>'


def html_table(table: Table, ident: str, filter_keys=("name", "type")) -> str:
    """A sortable table; when it has name or type columns, a search box filters its rows by them.

    Beyond HTML_ROWS rows the rest are held as JSON in the page and added on the first sort, filter or
    click of the 'show all' button, so a 10,000-layer report opens as fast as a 1,000-layer one.
    """
    keys = [i for i, c in enumerate(table.columns) if c.key in filter_keys]
    head = "".join(f'<th class="{"n" if c.kind == NUMBER else "t"}">{_html(c.title)}</th>' for c in table.columns)
    rows = []
    for row in table.rows:
        key = _html(" ".join(cell_text(row[i]) for i in keys).lower())
        cells = "".join(
            f'<td class="n" data-v="{cell}">{cell:,}</td>'
            if type(cell) is int
            else f'<td class="{"n" if c.kind == NUMBER else "t"}">{_html_cell(cell)}</td>'
            for c, cell in zip(table.columns, row)
        )
        rows.append(f'<tr data-key="{key}">{cells}</tr>')
    search = (
        f'<input type="search" data-filter="{ident}" placeholder="filter by {" or ".join(table.columns[i].title for i in keys)}">'
        if keys
        else ""
    )
    title = f"<h2>{_html(table.title)}</h2>" if table.title else ""
    footer = "".join(f'<p class="note">{_html_parts(f.parts)}</p>' for f in table.footer)
    rest = ""
    if len(rows) > HTML_ROWS:
        rest = (
            _json_script(f"{ident}-rest", rows[HTML_ROWS:]) + f'<p><button type="button" data-rest="{ident}">show all '
            f"{len(rows):,} rows (the first {HTML_ROWS:,} are shown)</button></p>"
        )
    return (
        f'{title}{search}<div class="scroll"><table class="sortable" id="{ident}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows[:HTML_ROWS])}</tbody></table></div>{rest}{footer}"
    )


def html_chart(chart: Chart, ident: str) -> str:
    """Bars (one per item) or a curve in an inline SVG that fills the width; one path per chart, so ten
    thousand bars stay light. Hovering shows the item's label and value (the script reads data-labels)."""
    n = max(len(chart.values), 1)
    top = max(chart.values, default=0) or 1
    height = 100
    if chart.kind == BARS:
        # one closed subpath per bar: M x 100 V top h 0.8 V 100 Z (a bar of 0 is a subpath of no height)
        d = "".join(f"M{i} {height}V{height - height * v / top:.2f}h0.8V{height}Z" for i, v in enumerate(chart.values))
        marks = f'<path class="bars" d="{d}"/>'
    else:
        points = " ".join(f"{i + 0.5},{height - height * v / top:.2f}" for i, v in enumerate(chart.values))
        marks = f'<polyline class="curve" points="{points}"/>'
    values = ",".join(str(v) for v in chart.values)
    return (
        f'<h2>{_html(chart.title)}</h2><p class="note">largest {top:,} {_html(chart.unit)}, {len(chart.values):,} '
        f'{"bars" if chart.kind == BARS else "points"}; <span class="hover">hover for each layer\'s figure</span></p>'
        f'<svg class="chart" id="{ident}" data-values="{values}" data-unit="{_html(chart.unit)}" viewBox="0 0 {n} {height}" '
        f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">{marks}</svg>'
    )


def _html_lines(lines) -> str:
    """Lines escaped one by one (a newline in a name stays an escape), joined by line breaks."""
    return "\n".join(map(_html, lines))


def html_drawing(drawing: Drawing, ident: str) -> str:
    """The graph as laid out: a box per layer or run of layers (its indices in data-layers, its layers in a
    tooltip), a path per input connection (data-from and data-to are layer indices), at the positions given."""
    head = f'<h2 id="{ident}-title">{_html(drawing.title)}</h2><p class="note">{_html(drawing.note)}</p>'
    if not drawing.boxes:
        return head
    edges = "".join(
        f'<path class="edge{" long" if e.long else ""}" data-from="{e.source}" data-to="{e.target}" '
        f'd="M{" L".join(f"{x} {y}" for x, y in e.points)}" marker-end="url(#{ident}-arrow)"/>'
        for e in drawing.edges
    )
    boxes = "".join(
        f'<g class="node s{b.shade}" data-layers="{",".join(map(str, b.layers))}" transform="translate({b.x} {b.y})">'
        f'<title>{_html_lines(b.title)}</title><rect width="{b.width}" height="{b.height}" rx="4"/>'
        f'<text x="6" y="15">{_html(b.lines[0])}</text><text class="sub" x="6" y="30">{_html(b.lines[1])}</text></g>'
        for b in drawing.boxes
    )
    return (
        f'{head}<div class="scroll"><svg class="graph" id="{ident}" width="{drawing.width}" height="{drawing.height}" '
        f'viewBox="0 0 {drawing.width} {drawing.height}" xmlns="http://www.w3.org/2000/svg">'
        f'<defs><marker id="{ident}-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
        f'orient="auto"><path d="M0 0L8 4L0 8z"/></marker></defs><g class="edges">{edges}</g>'
        f'<g class="boxes">{boxes}</g></svg></div>'
    )


def svg_scatter(chart: Scatter, ident: str = "scatter", standalone: bool = False) -> str:
    """The chart as laid out: axes with their ticks, a line per series, and a circle per point whose data
    attributes carry its exact figures (data-params, data-macs, ...) and whose tooltip says its setting.
    standalone: a whole SVG file, with its own style (light and dark) and title."""
    left, top, right, bottom = chart.plot
    parts = [
        f'<svg class="scatter" id="{ident}" width="{chart.width}" height="{chart.height}" '
        f'viewBox="0 0 {chart.width} {chart.height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if standalone:
        parts.append(f"<title>{_html(chart.title)}</title><style>{COLOURS}{SCATTER_STYLE}</style>")
    for px, text in chart.x_ticks:
        parts.append(
            f'<line class="grid" x1="{px}" y1="{top}" x2="{px}" y2="{bottom}"/>'
            f'<text class="tick" x="{px}" y="{bottom}" dy="1.4em" text-anchor="middle">{_html(text)}</text>'
        )
    for py, text in chart.y_ticks:
        parts.append(
            f'<line class="grid" x1="{left}" y1="{py}" x2="{right}" y2="{py}"/>'
            f'<text class="tick" x="{left}" y="{py}" dx="-6" dy="0.35em" text-anchor="end">{_html(text)}</text>'
        )
    parts.append(
        f'<path class="axis" d="M{left} {top}V{bottom}H{right}"/>'
        f'<text x="{right}" y="{bottom}" dy="2.8em" text-anchor="end">{_html(chart.x_title)}</text>'
        f'<text x="{left}" y="{top}" dy="-0.8em" text-anchor="middle">{_html(chart.y_title)}</text>'
    )
    for series in chart.series:
        points = " ".join(f"{chart.points[i].x},{chart.points[i].y}" for i in series)
        parts.append(f'<polyline points="{points}"/>')
    for p in chart.points:
        data = "".join(f' data-{key}="{value}"' for key, value in p.data)
        parts.append(
            f'<g class="point"{data}><title>{_html_lines(p.title)}</title><circle cx="{p.x}" cy="{p.y}" r="4"/>'
            f'<text x="{p.x}" y="{p.y}" dx="7" dy="0.35em">{_html(p.label)}</text></g>'
        )
    return "".join(parts) + "</svg>"


def to_svg(chart: Scatter) -> str:
    """A chart as one SVG file that opens by itself (light and dark by the reader's colour scheme)."""
    return svg_scatter(chart, standalone=True) + "\n"


def to_html(blocks, title: str = "flopcount report") -> str:
    """One self-contained HTML page (inline CSS, JS and SVG; nothing fetched): tables sortable and filterable,
    charts as inline SVG, lines as paragraphs. Light and dark by the reader's colour scheme."""

    charts = [b for b in blocks if isinstance(b, Chart)]
    body = [_json_script("labels", [visible(x) for x in charts[0].labels] if charts else [])]
    for i, block in enumerate(blocks):
        if isinstance(block, Table):
            body.append(html_table(block, f"table{i}"))
        elif isinstance(block, Chart):
            body.append(html_chart(block, f"chart{i}"))
        elif isinstance(block, Drawing):
            body.append(html_drawing(block, f"graph{i}"))
        elif isinstance(block, Scatter):
            body.append(
                f'<h2>{_html(block.title)}</h2><p class="note">{_html(block.note)}</p>{svg_scatter(block, f"scatter{i}")}'
            )
        elif block.text:
            body.append(f"<p>{_html_parts(block.parts)}</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_html(title)}</title><style>{HTML_STYLE}</style></head><body><h1>{_html(title)}</h1>"
        + "".join(body)
        + f"<script>{HTML_SCRIPT}</script></body></html>\n"
    )
