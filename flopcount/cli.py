"""The command line: a few lines per command; all work happens in the library."""

from __future__ import annotations

import errno
import os
import sys

import click

from .errors import FlopcountError
from .memory import DTYPES
from .spec import MAX_LAYERS

FORMATS = ("table", "json", "csv", "markdown")


class Command(click.Command):
    """A click command that turns flopcount's errors into one message and their exit status (2)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FlopcountError as err:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"Error: {one_line(err.describe(lambda option: flag(ctx, option)))}", err=True)
            ctx.exit(err.exit_code)


def flag(ctx, option: str) -> str:
    """How this command spells the library's option: its flag ('max_memory' -> '--max-memory')."""
    for param in ctx.command.params:
        if param.name == option and isinstance(param, click.Option):
            return param.opts[0]
    return option


def one_line(text: str) -> str:
    """Control characters escaped (a newline in a layer name or an option value), so an error stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


PIPE_CLOSED = 141  # the status a shell shows for a program that SIGPIPE ended (128 + 13); 1 is drift, 2 bad input
WRITE_FAILED = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


class Main(click.Group):
    """The command group; it owns standard output: flushed before exit, its failures one line or silence."""

    def invoke(self, ctx):
        tolerant(sys.stdout), tolerant(sys.stderr)
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a full disk shows here, not as a traceback at exit
        except BrokenPipeError:
            # the reader left (`| head`): nothing to say, and nothing left to flush at exit
            discard_stdout()
            ctx.exit(PIPE_CLOSED)
        except OSError as err:
            if err.errno not in WRITE_FAILED:
                raise
            discard_stdout()
            click.echo(f"Error: cannot write the output: {err.strerror}.", err=True)
            ctx.exit(2)


def tolerant(stream) -> None:
    """A stream that cannot encode a character writes its escape instead of raising (a cp1252 CI log)."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
        stream.reconfigure(errors="backslashreplace")


def discard_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of what is buffered cannot fail."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file (a test's buffer): nothing is flushed at exit
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def console(stderr: bool = False):
    from .render import console

    return console(stderr)


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flopcount")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors (for developers).")
def main(debug):
    """What a neural network costs, per layer: shapes, parameters, multiply-adds."""


spec_argument = click.argument("spec", metavar="SPEC")
set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a spec variable, e.g. --set alpha=0.75 (repeatable).",
)
max_layers_option = click.option(
    "--max-layers",
    type=click.IntRange(min=1),
    default=MAX_LAYERS,
    show_default=True,
    help="Refuse specs that expand to more layers.",
)
input_shape_option = click.option(
    "--input-shape",
    "input_shapes",
    multiple=True,
    metavar="NAME=DIMS",
    help="For a model file: an input's shape, batch first, e.g. --input-shape input=1x3x224x224 (repeatable).",
)
convention_option = click.option(
    "--convention",
    default="flopcount",
    show_default=True,
    metavar="NAME",
    help="Count as another tool does, per layer and in total: torchvision, fvcore, ptflops, ptflops-aten, thop, "
    "torchinfo, onnx-tool or keras; 'all' shows every tool's total side by side.",
)
DTYPE_NAMES = tuple(DTYPES)  # memory's table of data types and their sizes


def dtype_options(f):
    """--dtype for weights and activations alike, and one option for each apart."""
    f = click.option(
        "--activation-dtype", type=click.Choice(DTYPE_NAMES), help="Data type of activations (default: --dtype)."
    )(f)
    f = click.option("--weight-dtype", type=click.Choice(DTYPE_NAMES), help="Data type of weights (default: --dtype).")(
        f
    )
    return click.option(
        "--dtype",
        type=click.Choice(DTYPE_NAMES),
        default="float32",
        show_default=True,
        help="Data type of weights and activations, for memory.",
    )(f)


def batch_option(help: str):
    """--batch, samples per inference, with what it scales in this command."""
    return click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help=help)


max_memory_option = click.option(
    "--max-memory",
    default="4GiB",
    show_default=True,
    metavar="SIZE",
    help="Refuse to run when the estimated peak memory is larger, e.g. 512MiB.",
)


@main.command(cls=Command)
@spec_argument
@set_option
@input_shape_option
@max_layers_option
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("html",)), default="table", show_default=True)
@click.option("--by", type=click.Choice(["type", "block"]), help="Group totals by layer type or by top-level block.")
@click.option("--flops", is_flag=True, help="Also show other ops and FLOPs = 2 x MACs + other ops.")
@click.option(
    "--memory",
    "show_memory",
    is_flag=True,
    help="Also show each layer's output, weight and live activation memory (json and csv always carry them).",
)
@click.option("--verify", is_flag=True, help="Then run SPEC with NumPy (batch 1) and exit 1 if any layer disagrees.")
@max_memory_option  # used by --verify
@convention_option
@batch_option("Samples per inference: MACs, other ops and activations scale, parameters do not.")
@dtype_options
def analyze(
    spec,
    overrides,
    input_shapes,
    max_layers,
    fmt,
    by,
    flops,
    show_memory,
    verify,
    max_memory,
    convention,
    batch,
    dtype,
    weight_dtype,
    activation_dtype,
):
    """Per-layer output shape, parameters and MACs of SPEC, with totals.

    SPEC is a JSON spec file, the name of a bundled reference spec (vgg16, resnet50, ...),
    or a model file: ONNX (.onnx), a Keras archive (.keras) or Keras model.to_json() output.
    """
    from . import render, report
    from .graph import analyze as analyze_spec
    from .spec import parse_overrides

    if verify:  # the runner (and NumPy) only with --verify; a bad size is an error before any output
        from .runner import parse_bytes

        max_memory = parse_bytes(max_memory)
    graph = analyze_spec(spec, parse_overrides(overrides), max_layers, model_inputs(input_shapes))
    for note in graph.unused_notes():  # a wiring mistake is counted, but said
        click.echo(f"Warning: {one_line(f'{graph.spec.file}: {note}')}", err=True)
    if batch != 1 and convention != "flopcount":
        raise click.UsageError("--convention counts one sample, as each tool does; leave --batch at 1 with it.")
    memory = memory_of(graph, batch, dtype, weight_dtype, activation_dtype)
    if fmt == "html":
        if convention != "flopcount":
            raise click.UsageError("--format html shows flopcount's own figures; drop --convention with it.")
        click.echo(html_text(graph, memory), nl=False)
    elif convention == "all":
        show_conventions(graph, fmt)
    else:
        counted = report.counted_under(graph, convention)
        if fmt == "table":
            render.to_console(report.analysis_blocks(graph, by, flops, counted, memory, show_memory), console())
        elif fmt == "json":
            click.echo(report.to_json(graph, by, counted, memory))
        elif fmt == "csv":
            click.echo(render.to_csv(report.csv_table(graph, by, counted, memory)), nl=False)
        else:
            click.echo(
                render.to_markdown(report.analysis_blocks(graph, by, flops, counted, memory, show_memory)), nl=False
            )
    if verify:
        verify_run(graph, fmt, max_memory)


@main.command(cls=Command)
@spec_argument
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="A variable's values, e.g. --set alpha=1,0.75,0.5 (repeatable: the grid of all combinations).",
)
@batch_option("Samples per inference: MACs, other ops and activations scale.")
@dtype_options
@max_layers_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS + ("html", "svg")),
    default="table",
    show_default=True,
    help="html: the table and a chart of MACs against parameters in one page; svg: the chart alone.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write to this file; without --format, its suffix (.html, .svg, .json, .csv, .md) picks the format.",
)
def sweep(spec, overrides, batch, dtype, weight_dtype, activation_dtype, max_layers, fmt, output):
    """Analyse SPEC at every combination of variable values: params, MACs, other ops and memory per setting.

    The MobileNet paper's (Howard et al., 2017) Tables 6 and 7:
    flopcount sweep mobilenet_v1 --set alpha=1,0.75,0.5,0.25 --set resolution=224,192,160,128
    """
    from . import render
    from .sweep import parse_grid, sweep_chart, sweep_json, sweep_table
    from .sweep import sweep as sweep_spec

    name, points = sweep_spec(
        spec, parse_grid(overrides), max_layers, batch, weight_dtype or dtype, activation_dtype or dtype
    )
    if output and click.get_current_context().get_parameter_source("fmt").name == "DEFAULT":
        fmt = SUFFIX_FORMATS.get(os.path.splitext(output)[1].lower(), fmt)
    if fmt == "table" and not output:
        render.to_console([sweep_table(name, points)], console())
        return
    if fmt == "table":
        text = render.to_plain([sweep_table(name, points)])
    elif fmt == "json":
        text = sweep_json(name, points) + "\n"
    elif fmt == "csv":
        text = render.to_csv(sweep_table(name, points, machine=True))
    elif fmt == "html":
        blocks = [sweep_chart(name, points), sweep_table(name, points)]
        text = render.to_html(blocks, title=f"flopcount sweep: {name}")
    elif fmt == "svg":
        text = render.to_svg(sweep_chart(name, points))
    else:
        text = render.to_markdown([sweep_table(name, points)])
    if output:
        write_file(output, text)
    else:
        click.echo(text, nl=False)


SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".svg": "svg", ".json": "json", ".csv": "csv", ".md": "markdown"}


def write_file(output: str, text: str) -> None:
    """Write a command's output to the file named; a failure is click's one-line file error."""
    try:
        with open(output, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
    except OSError as err:
        raise click.FileError(output, hint=err.strerror) from None


@main.command("report", cls=Command)
@spec_argument
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@set_option
@input_shape_option
@batch_option("Samples per inference: MACs, other ops and activations scale.")
@dtype_options
@max_layers_option
def html_report(spec, output, overrides, input_shapes, batch, dtype, weight_dtype, activation_dtype, max_layers):
    """Write an HTML report of SPEC: one self-contained file (no network needed to open it).

    Totals, bar charts of MACs, parameters and output memory per layer, the live-memory curve,
    a drawing of the graph when it branches, every layer's exact figures (sortable, filterable by name and type), and the breakdowns by
    layer type and by block, in the reader's light or dark colour scheme.
    """
    from .graph import analyze as analyze_spec
    from .spec import parse_overrides

    graph = analyze_spec(spec, parse_overrides(overrides), max_layers, model_inputs(input_shapes))
    write_file(output, html_text(graph, memory_of(graph, batch, dtype, weight_dtype, activation_dtype)))


def memory_of(graph, batch, dtype, weight_dtype, activation_dtype):
    """The memory estimate at --batch, each of weights and activations in its own dtype or else in --dtype."""
    from .memory import estimate_memory

    return estimate_memory(graph, batch, weight_dtype or dtype, activation_dtype or dtype)


def html_text(graph, memory) -> str:
    from . import render, report

    return render.to_html(report.html_blocks(graph, memory), title=f"flopcount: {report.title(graph, memory.batch)}")


@main.command(cls=Command)
@spec_argument
@click.argument("layer", metavar="LAYER")
@set_option
@input_shape_option
@batch_option("Samples per inference, for memory.")
@dtype_options
@max_layers_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def explain(spec, layer, overrides, input_shapes, batch, dtype, weight_dtype, activation_dtype, max_layers, fmt):
    """One layer of SPEC, every figure with its formula in the layer's own symbols and the numbers substituted.

    LAYER is a layer's name (or its index).
    """
    from . import render
    from .explain import explain_blocks, explain_json, find_layer
    from .graph import analyze as analyze_spec
    from .spec import parse_overrides

    graph = analyze_spec(spec, parse_overrides(overrides), max_layers, model_inputs(input_shapes))
    node = find_layer(graph, layer)
    memory = memory_of(graph, batch, dtype, weight_dtype, activation_dtype)
    if fmt == "json":
        click.echo(explain_json(graph, node, memory))
    else:
        render.to_console(explain_blocks(graph, node, memory), console())


@main.command(cls=Command)
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--M", "M", type=int, help="Input channels M.")
@click.option("--N", "N", type=int, help="Output channels N.")
@click.option("--DK", "DK", type=int, default=3, show_default=True, help="Kernel size D_K.")
@click.option("--DF", "DF", type=int, default=112, show_default=True, help="Input height and width D_F.")
@click.option("--stride", type=int, default=1, show_default=True, help="Stride of the (first) strided layer.")
@click.option("--C", "C", type=int, help="Channels of the C → C stacks (default: --M when it equals --N).")
@click.option("--t", "t", type=int, default=6, show_default=True, help="Expansion of the inverted residual.")
@click.option(
    "--bias", is_flag=True, help="Give every convolution a bias (off, so the MobileNet paper's formulas hold)."
)
@click.option("--no-run", is_flag=True, help="Skip executing both sides with the NumPy runner.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--list", "list_blocks", is_flag=True, help="List the built-in blocks and exit.")
def compare(a, b, M, N, DK, DF, stride, C, t, bias, no_run, fmt, list_blocks):
    """Compare A and B side by side: counts, the cost formulas of the MobileNet paper
    (Howard et al., 2017), the exact ratio B / A.

    A and B are built-in blocks (see --list) or spec files. Exit status 1 when a check fails.
    """
    from . import compare_report, render
    from .compare import Sizes, run_sides
    from .compare import compare as compare_blocks

    if list_blocks:
        return render.to_console(compare_report.block_list_blocks(), console())
    if not (a and b):
        raise click.UsageError("compare takes two blocks or specs, A and B (or --list).")
    cmp = compare_blocks(a, b, Sizes(M, N, DK, DF, stride, C, t, bias))
    if not no_run:
        run_sides(cmp)
    if fmt == "json":
        click.echo(compare_report.to_json(cmp))
    else:
        render.to_console(compare_report.comparison_blocks(cmp), console())
    sys.exit(0 if cmp.ok else 1)


@main.command(cls=Command)
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Compare with (or, with --update, write) this baseline file.",
)
@click.option("--update", is_flag=True, help="Rewrite the baseline entries of these specs from their figures now.")
@click.option(
    "--tolerance",
    default="0%",
    show_default=True,
    metavar="PERCENT",
    help="Allowed MAC drift, e.g. 0.5%; params are always exact.",
)
@set_option
@max_layers_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "markdown", "junit"]), default="table", show_default=True
)
@click.option(
    "--convention",
    default="flopcount",
    show_default=True,
    metavar="NAME",
    help="Compare another tool's MACs and params (see analyze --convention): the expect entries naming it, "
    "and baseline entries keyed with it.",
)
@click.pass_context
def check(ctx, specs, baseline, update, tolerance, overrides, max_layers, fmt, convention):
    """Fail when the params or MACs of a SPEC differ from what is expected.

    Expected figures come from each spec's 'expect' block and, with --baseline, from a
    baseline file that --update writes.

    SPEC is a spec file, a bundled name, a folder (its *.json) or a glob. Exit status:
    0 all match, 1 drift or nothing to compare, 2 a spec or baseline cannot be read.
    """
    from . import check_report, render
    from .check import parse_tolerance, run_check
    from .spec import parse_overrides

    if update and not baseline:
        raise click.UsageError("--update needs --baseline FILE, the file to write.")
    result = run_check(
        specs, baseline, update, parse_tolerance(tolerance), parse_overrides(overrides), max_layers, convention
    )
    if fmt == "table":
        render.to_console(check_report.check_blocks(result), console())
    elif fmt == "markdown":
        click.echo(render.to_markdown(check_report.check_blocks(result)), nl=False)
    else:
        click.echo({"json": check_report.check_json, "junit": check_report.check_junit}[fmt](result), nl=False)
    ctx.exit(0 if result.ok else 1)


@main.command(cls=Command)
def schema():
    """Print a JSON Schema (draft 2020-12) for specs, for editors that read $schema."""
    import json

    from .schema import spec_schema

    click.echo(json.dumps(spec_schema(), indent=2))


@main.command(cls=Command)
@spec_argument
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random weights and input."
)
@batch_option("Samples in the input batch.")
@max_memory_option
@set_option
@input_shape_option
@max_layers_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def run(spec, seed, batch, max_memory, overrides, input_shapes, max_layers, fmt, quiet):
    """Execute SPEC with NumPy and check each layer's shape, parameters and MACs against the analysis.

    An ONNX file runs with its own weights, and its output is compared with ONNX Runtime's
    on the same input (when onnxruntime is installed). Exit status 0 when every layer
    agrees (and the outputs match), 1 when any differs.
    """
    from . import render, report
    from .graph import analyze as analyze_spec
    from .runner import parse_bytes, run_graph
    from .spec import parse_overrides

    graph = analyze_spec(spec, parse_overrides(overrides), max_layers, model_inputs(input_shapes))
    out = console()
    with render.run_progress(out, enabled=not quiet) as progress:
        result = run_graph(
            graph,
            seed=seed,
            batch=batch,
            max_memory=parse_bytes(max_memory),
            progress=progress,
            advice=memory_advice(graph, batch_option=True),
        )
    if fmt == "json":
        click.echo(report.run_to_json(result))
    elif fmt == "html":
        click.echo(render.to_html(report.run_html_blocks(result), title=f"flopcount run: {graph.name}"), nl=False)
    else:
        render.to_console(report.run_blocks(result), out)
    # the file's function is compared only once the run itself agrees with the analysis
    witnessed = result.ok and runtime_witness(graph, seed, stderr=fmt != "table")
    sys.exit(0 if witnessed else 1)


def runtime_witness(graph, seed, stderr) -> bool:
    """For a graph imported from ONNX: compare its output with ONNX Runtime's; False on a mismatch."""
    from .importers import witness
    from .render import to_console
    from .table import line

    if not witness.applies(graph):
        return True
    check = witness.runtime_witness(graph, seed)
    to_console([line(check.summary())], console(stderr=stderr))  # tensor names are the file's text: escaped
    return check.ok or check.skipped is not None


def model_inputs(pairs):
    from .importers import parse_input_shapes

    return parse_input_shapes(pairs)


@main.command("import", cls=Command)
@click.argument("model", metavar="MODEL")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write the spec to this file (default: standard output)."
)
@set_option
@input_shape_option
def import_model(model, output, overrides, input_shapes):
    """Translate a model file into a readable JSON spec.

    MODEL is an ONNX file (.onnx), a Keras archive (.keras) or a Keras model.to_json()
    file. Layer names are the model's node or layer names; the constant arithmetic
    exporters emit around reshapes is folded away. Dynamic dimensions are set with
    --set NAME=N or --input-shape. The spec counts exactly as MODEL does.
    """
    from .importers import import_spec
    from .spec import parse_overrides

    text = import_spec(model, parse_overrides(overrides), model_inputs(input_shapes))
    if output:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as err:
            raise click.FileError(output, hint=err.strerror) from None
    else:
        click.echo(text, nl=False)


def show_conventions(graph, fmt):
    """analyze --convention all: every tool's figure side by side, with what makes it differ from the MACs."""
    from . import render, report

    if fmt == "json":
        click.echo(report.conventions_json(graph))
    elif fmt == "csv":
        click.echo(render.to_csv(report.conventions_table(graph, tidy=True)), nl=False)
    elif fmt == "markdown":
        click.echo(render.to_markdown(report.conventions_blocks(graph)), nl=False)
    else:
        render.to_console(report.conventions_blocks(graph), console())


def verify_run(graph, fmt, max_memory):
    """analyze --verify: run the graph, print the verdict (to stderr beside machine formats), exit 1 on a mismatch."""
    from . import render, report
    from .runner import run_graph

    out = console(stderr=fmt != "table")
    with render.run_progress(out) as progress:
        result = run_graph(
            graph, max_memory=max_memory, progress=progress, advice=memory_advice(graph, batch_option=False)
        )
    render.to_console(report.verdict_blocks(result), out)
    if not result.ok:
        sys.exit(1)


def memory_advice(graph, batch_option: bool) -> str:
    """What lowers a refused run's memory, naming only options the command has (analyze --verify has no --batch)."""
    smaller = "--set resolution=..." if "resolution" in graph.spec.variables else "a smaller input shape"
    what = "a smaller --batch or resolution" if batch_option else "a smaller resolution"
    return f"Use {what} ({smaller}), or raise --max-memory."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
