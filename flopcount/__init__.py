"""flopcount: what a neural network costs, per layer, before you build it."""

from .errors import FlopcountError, ShapeError, SpecError
from .graph import Graph, Node, analyze, build_graph
from .spec import load_spec, parse_spec

__version__ = "0.1.0"
__all__ = [
    "FlopcountError",
    "Graph",
    "Node",
    "ShapeError",
    "SpecError",
    "analyze",
    "build_graph",
    "load_spec",
    "parse_spec",
]
