"""The command line: a few lines per command; all work happens in the library."""

from __future__ import annotations

import sys

import click

from .errors import FlopcountError

FORMATS = ("table", "json", "csv", "markdown")


class Command(click.Command):
    """A click command that turns flopcount's errors into one message and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FlopcountError as err:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"Error: {err}", err=True)
            ctx.exit(2)


def console():
    from rich.console import Console

    return Console(highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flopcount")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors (for developers).")
def main(debug):
    """What a neural network costs, per layer: shapes, parameters, multiply-adds."""


spec_argument = click.argument("spec", metavar="SPEC")
set_option = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable, e.g. --set alpha=0.75 (repeatable).")
max_layers_option = click.option("--max-layers", type=click.IntRange(min=1), default=100_000, show_default=True, help="Refuse specs that expand to more layers.")


@main.command(cls=Command)
@spec_argument
@set_option
@max_layers_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--by", type=click.Choice(["type", "block"]), help="Group totals by layer type or by top-level block.")
@click.option("--flops", is_flag=True, help="Also show other ops and FLOPs = 2 x MACs + other ops.")
def analyze(spec, sets, max_layers, fmt, by, flops):
    """Per-layer output shape, parameters and MACs of SPEC, with totals.

    SPEC is a JSON spec file, or the name of a bundled reference spec (vgg16, resnet50, ...).
    """
    from . import report
    from .graph import analyze as analyze_spec
    from .spec import parse_overrides

    graph = analyze_spec(spec, parse_overrides(sets), max_layers)
    if fmt == "table":
        report.render_table(graph, console(), by=by, flops=flops)
    elif fmt == "json":
        click.echo(report.to_json(graph, by))
    elif fmt == "csv":
        click.echo(report.to_csv(graph, by, flops), nl=False)
    else:
        click.echo(report.to_markdown(graph, by, flops), nl=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
