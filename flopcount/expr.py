"""A small arithmetic language for spec values, evaluated exactly (int and Fraction).

Grammar: Python's expression grammar, restricted to these forms (nothing else is accepted;
spec text never reaches eval/exec). Precedence and associativity are exactly Python's,
lowest first:

    expr        := disjunction ['if' disjunction 'else' expr]
    disjunction := conjunction ('or' conjunction)*
    conjunction := inversion ('and' inversion)*
    inversion   := 'not' inversion | comparison
    comparison  := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)*      (chained: a < b < c)
    sum         := term (('+'|'-') term)*
    term        := factor (('*'|'/'|'//'|'%') factor)*
    factor      := ('-'|'+') factor | power
    power       := primary ['**' factor]
    primary     := number | 'true' | 'false' | name | 'in' '.' axis
                 | name '(' [expr (',' expr)*] ')' | '(' expr ')'

Numbers are exact: ``0.75`` is the fraction 3/4, ``/`` is exact division, ``//`` floors.
``and`` and ``or`` return one of their operands, as Python's do; a boolean is never a number
(``true + 1`` is an error). ``True`` and ``False`` are accepted for ``true`` and ``false``.
``in.channels``, ``in.height`` and ``in.width`` read the shape of the input (see spec.py).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache, partial

from .errors import SpecError, suggest

MAX_LENGTH = 1000
MAX_DEPTH = 50
MAX_BITS = 4096  # the largest magnitude any intermediate value may reach
MAX_ROUND_DIGITS = 100  # round(x, n) takes |n| up to this
BIG_STEP_BITS = 16  # an operation on b-bit numbers costs 1 + b*b >> 16 steps: 4,096 bits cost 256

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%()<>,.]))"
)
BOOLEANS = {"true": True, "false": False, "True": True, "False": False}
INPUT = "in"  # the one name with a shape: in.channels
KEYWORDS = frozenset({"if", "else", "and", "or", "not", INPUT, *BOOLEANS})
AXES = ("channels", "height", "width")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")


class ExprError(SpecError):
    """An expression that cannot be parsed or evaluated."""


class UndefinedVariable(ExprError):
    """An expression names a variable that is not defined; variable holds the name."""

    def __init__(self, message: str, variable: str):
        super().__init__(message)
        self.variable = variable


class Tensor:
    """A tensor whose shape an expression can read (in.channels); looked up only when read."""

    __slots__ = ("lookup",)

    def __init__(self, lookup):
        self.lookup = lookup  # () -> shape tuple


class Word(str):
    """A word a variable or block parameter holds ("hard_swish"), put where an attribute names that variable."""

    def __new__(cls, text: str, variable: str):
        word = super().__new__(cls, text)
        word.variable = variable
        return word


class Budget:
    """The work all of one spec's expressions may do, in steps, charged before the work is done.

    Every node of an evaluated expression costs a step; an operation on big numbers costs more
    (1 + b*b >> 16 for b-bit operands), so thousands of expressions over 4,000-bit fractions
    stop at the limit within a second instead of running for minutes.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    def spend(self, steps: int, text: str) -> None:
        self.used += steps
        if self.used > self.limit:
            raise ExprError.about(
                "max_layers",
                "the spec's expressions need more than the limit of {limit} steps of work (at "
                "expression {text}); numbers of thousands of bits cost many steps. The limit grows with {max_layers}.",
                limit=f"{self.limit:,}",
                text=repr(_short(text)),
            )


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- functions


def _make_divisible(v, divisor, min_value=None):
    """MobileNetV2's rounding of channel counts to a multiple of divisor."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + Fraction(divisor) / 2) // divisor * divisor)
    if new_v < Fraction(9, 10) * v:
        new_v += divisor
    return new_v


def _round(v, ndigits=None):
    """Python's round(): a tie goes to the even neighbour (round(2.5) == 2), as NumPy and PyTorch round."""
    return round(Fraction(v)) if ndigits is None else round(Fraction(v), ndigits)


def _exact_power(x: Fraction, base: Fraction, estimate: float):
    """The integer k with base ** k == x, if the estimate is close to one; else None."""
    if not math.isfinite(estimate) or abs(estimate) > MAX_BITS:
        return None
    k = round(estimate)
    return k if base**k == x else None


def _float_of(x: Fraction, name: str) -> float:
    try:
        value = float(x)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value) or (value == 0 and x != 0):
        raise ExprError(f"function '{name}' works in double precision, and {x} is outside its range")
    return value


def _log(name, float_log, base, x, b=None):
    """log, log2 or log10: exact when the result is a whole number, else NumPy's double-precision value."""
    b = base if b is None else Fraction(b)
    x = Fraction(x)
    if x <= 0 or (b is not None and (b <= 0 or b == 1)):
        raise ExprError(f"function '{name}' needs a positive number (and a positive base other than 1)")
    if x == 1:
        return 0
    approx = math.log(x.numerator) - math.log(x.denominator)
    if b is not None:
        # a base within a double's rounding of 1 has no estimate: log(x, 1 + 2 ** -100) is about 8.8e29
        log_b = math.log(b.numerator) - math.log(b.denominator)
        k = _exact_power(x, b, approx / log_b) if log_b else None
        if k is not None:
            return k
        if name == "log":  # log(x, b) as NumPy computes it: log(x) / log(b)
            log_x, log_b = math.log(_float_of(x, name)), math.log(_float_of(b, name))
            if log_b == 0:
                raise ExprError(f"function 'log' works in double precision, in which the base {b} is 1")
            return Fraction(log_x) / Fraction(log_b)
    return Fraction(float_log(_float_of(x, name)))


def _sqrt(x):
    """Square root: exact for perfect squares (of fractions too), else the double-precision value."""
    x = Fraction(x)
    if x < 0:
        raise ExprError("function 'sqrt' needs a number >= 0")
    n, d = math.isqrt(x.numerator), math.isqrt(x.denominator)
    if n * n == x.numerator and d * d == x.denominator:
        return Fraction(n, d)
    return Fraction(math.sqrt(_float_of(x, "sqrt")))


FUNCTIONS = {  # name -> (function, fewest arguments, most arguments or None)
    "min": (min, 2, None),
    "max": (max, 2, None),
    "abs": (abs, 1, 1),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "int": (int, 1, 1),
    "round": (_round, 1, 2),
    "make_divisible": (_make_divisible, 2, 3),
    "log": (partial(_log, "log", math.log, None), 1, 2),
    "log2": (partial(_log, "log2", math.log2, Fraction(2)), 1, 1),
    "log10": (partial(_log, "log10", math.log10, Fraction(10)), 1, 1),
    "sqrt": (_sqrt, 1, 1),
}


# ---------------------------------------------------------------- numbers


def exact(value):
    """A JSON float as the exact decimal it was written as (0.1 -> 1/10)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExprError(f"{value} is not a finite number.")
        return _decimal(value)
    return value


@lru_cache(maxsize=1024)
def _decimal(value: float):
    # a spec repeats the same few decimals (epsilons, rates) in every block: parse each once
    value = Fraction(repr(value))
    return value.numerator if value.denominator == 1 else value


def plain(value):
    """An exact value for JSON or display: int, bool, a float when not whole, or 'p/q' beyond a float's range;
    a word as it is, a list item by item."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        return float(value) if abs(value) < Fraction(10) ** 300 else str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def fixed(value, places: int = 2) -> str:
    """An exact value as a decimal with places digits (Fraction(1383575, 10000) -> '138.36').

    Integer arithmetic, so any size; a tie rounds away from zero (for display only: round() in a
    spec is Python's, half to even).
    """
    value = Fraction(value)
    q, r = divmod(abs(value.numerator) * 10**places, value.denominator)
    if 2 * r >= value.denominator:
        q += 1
    digits = str(q).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    return "-" + text if value < 0 else text


def _number(literal: str, text: str):
    """A number literal, exactly; refused before it is built when its exponent alone passes MAX_BITS."""
    too_big = ExprError(f"the number {literal} in expression {text!r} is too large or too precise to be a size.")
    # 10 ** 9999 is cheap to build and then check; a longer exponent (1e99999999) would hang Fraction()
    if len(literal.lower().partition("e")[2].lstrip("+-").lstrip("0")) > 4:
        raise too_big
    value = Fraction(literal)
    if _bits(value) > MAX_BITS:
        raise too_big
    return value.numerator if value.denominator == 1 else value


# ---------------------------------------------------------------- parsing


@lru_cache(maxsize=4096)
def parse(text: str):
    """Parse expression text into a tuple tree; raise ExprError on bad syntax."""
    return _parse(text)[0]


def _parse_text(text: str):
    """(tree, number of nodes): the node count is what evaluating the tree costs, before big numbers."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters.")
    tokens = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            bad = stripped[pos:].lstrip()[:1]
            raise ExprError(f"unexpected character {bad!r} in expression {text!r}.")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    if not tokens:
        raise ExprError("empty expression.")
    parser = _Parser(tokens, text)
    tree = parser.expr(0)
    if parser.i != len(tokens):
        raise ExprError(f"unexpected {tokens[parser.i][1]!r} in expression {text!r}.")
    return tree, parser.nodes


# cached by text; wrapped here rather than decorated so that mutation testing reaches the body (mutmut leaves
# decorated functions alone)
_parse = lru_cache(maxsize=4096)(_parse_text)


class _Parser:
    """Recursive descent over Python's precedence levels; chains of one level become one node."""

    def __init__(self, tokens, text):
        self.tokens = tokens
        self.text = text
        self.i = 0
        self.nodes = 0

    def node(self, *parts):
        self.nodes += 1
        return parts

    def peek(self):
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, expected=None):
        if self.i >= len(self.tokens):
            raise ExprError(f"expression {self.text!r} ends too early.")
        kind, value = self.tokens[self.i]
        if expected is not None and value != expected:
            raise ExprError(f"expected {expected!r} but found {value!r} in expression {self.text!r}.")
        self.i += 1
        return kind, value

    def deeper(self, depth):
        if depth > MAX_DEPTH:
            raise ExprError(f"expression {self.text[:40]!r}... is nested too deeply.")
        return depth + 1

    def expr(self, depth):
        depth = self.deeper(depth)
        body = self.disjunction(depth)
        if self.peek() == "if":
            self.take()
            cond = self.disjunction(depth)
            self.take("else")
            return self.node("if", cond, body, self.expr(depth))
        return body

    def disjunction(self, depth):
        return self.chain("or", self.conjunction, depth)

    def conjunction(self, depth):
        return self.chain("and", self.inversion, depth)

    def chain(self, op, operand, depth):
        items = [operand(depth)]
        while self.peek() == op:
            self.take()
            items.append(operand(depth))
        return items[0] if len(items) == 1 else self.node(op, tuple(items))

    def inversion(self, depth):
        if self.peek() == "not":
            self.take()
            return self.node("not", self.inversion(self.deeper(depth)))
        return self.comparison(depth)

    def comparison(self, depth):
        return self.operators("cmp", _COMPARE, self.sum, depth)

    def sum(self, depth):
        return self.operators("arith", ("+", "-"), self.term, depth)

    def term(self, depth):
        return self.operators("arith", ("*", "/", "//", "%"), self.factor, depth)

    def operators(self, kind, ops, operand, depth):
        first = operand(depth)
        rest = []
        while self.peek() in ops:
            op = self.take()[1]
            rest.append((op, operand(depth)))
        return self.node(kind, first, tuple(rest)) if rest else first

    def factor(self, depth):
        if self.peek() in ("-", "+"):
            op = self.take()[1]
            return self.node("neg" if op == "-" else "pos", self.factor(self.deeper(depth)))
        return self.power(depth)

    def power(self, depth):
        base = self.primary(depth)
        if self.peek() == "**":
            self.take()
            return self.node("**", base, self.factor(self.deeper(depth)))
        return base

    def primary(self, depth):
        kind, value = self.take()
        if kind == "num":
            return self.node("num", _number(value, self.text))
        if kind == "name":
            if value in BOOLEANS:
                return self.node("num", BOOLEANS[value])
            if value == INPUT:
                return self.axis()
            if value in KEYWORDS:
                raise ExprError(f"unexpected {value!r} in expression {self.text!r}.")
            if self.peek() == "(":
                self.take()
                args = []
                if self.peek() != ")":
                    args.append(self.expr(depth))
                    while self.peek() == ",":
                        self.take()
                        args.append(self.expr(depth))
                self.take(")")
                return self.node("call", value, tuple(args))
            return self.node("var", value)
        if value == "(":
            inner = self.expr(depth)
            self.take(")")
            return inner
        raise ExprError(f"unexpected {value!r} in expression {self.text!r}.")

    def axis(self):
        where = f"in expression {self.text!r}"
        if self.peek() != ".":
            raise ExprError(f"'in' is the input; read its shape as in.channels, in.height or in.width, {where}.")
        self.take()
        axis = self.take()[1]
        if axis not in AXES:
            raise ExprError(
                f"the input has no '{axis}'; use in.channels, in.height or in.width, {where}.{suggest(axis, AXES)}"
            )
        return self.node("shape", axis)


# ---------------------------------------------------------------- evaluation


def evaluate(text: str, env, budget: Budget | None = None):
    """Evaluate expression text with variables from env; result is int, Fraction or bool.

    A variable may hold a word or a list (a block parameter such as an activation name); it
    is returned as is when the whole expression is its name, and is an error inside arithmetic.
    """
    if isinstance(text, Word):  # an attribute that takes a number, given a variable that holds a word
        raise ExprError(f"'{text.variable}' holds the word {str(text)!r}, not a number.")
    tree, nodes = _parse(text)
    if budget is not None:
        budget.spend(nodes, text)
    return _eval(tree, env, text, budget)


def _bits(value) -> int:
    """Bits of the larger of an exact value's numerator and denominator."""
    value = Fraction(value)
    return max(abs(value.numerator).bit_length(), value.denominator.bit_length())


def _check_size(value, text):
    if _bits(value) > MAX_BITS:
        raise ExprError(f"expression {text!r} produces a number too large to be a size.")
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def _num(value, text):
    if isinstance(value, bool):
        raise ExprError(f"a boolean is used as a number in expression {text!r}.")
    if not isinstance(value, (int, Fraction)):
        raise ExprError(f"{_what(value)} is used as a number in expression {text!r}.")
    return value


def _truth(value, text):
    if not isinstance(value, (bool, int, Fraction)):
        raise ExprError(f"{_what(value)} is used as a condition in expression {text!r}.")
    return bool(value)


def _what(value) -> str:
    if isinstance(value, str):
        return f"the word {value!r}"
    if isinstance(value, Tensor):
        return "the input itself (not one of its sizes)"
    return f"the list {value!r}" if isinstance(value, (list, tuple)) else f"{value!r}"


def _spend(budget, text, *values):
    """Charge an operation on big numbers before doing it."""
    if budget is not None:
        bits = max(_bits(v) for v in values)
        if bits > 64:
            budget.spend((bits * bits) >> BIG_STEP_BITS, text)


def _eval(node, env, text, budget):
    op = node[0]
    if op == "num":
        return node[1]
    if op == "var":
        name = node[1]
        if name not in env:
            raise UndefinedVariable(f"undefined variable '{name}' in expression {text!r}.{suggest(name, env)}", name)
        return env[name]
    if op == "arith":
        acc = _num(_eval(node[1], env, text, budget), text)
        for o, operand in node[2]:
            acc = _arith(o, acc, _num(_eval(operand, env, text, budget), text), text, budget)
        return acc
    if op == "cmp":
        left = _eval(node[1], env, text, budget)
        for o, operand in node[2]:
            right = _eval(operand, env, text, budget)
            if not _compare(o, left, right, text, budget):
                return False
            left = right
        return True
    if op in ("and", "or"):
        # Python's: the first operand that decides, or the last one
        for operand in node[1][:-1]:
            value = _eval(operand, env, text, budget)
            if _truth(value, text) == (op == "or"):
                return value
        return _eval(node[1][-1], env, text, budget)
    if op == "not":
        return not _truth(_eval(node[1], env, text, budget), text)
    if op == "if":
        branch = node[2] if _truth(_eval(node[1], env, text, budget), text) else node[3]
        return _eval(branch, env, text, budget)
    if op in ("neg", "pos"):
        v = _num(_eval(node[1], env, text, budget), text)
        return -v if op == "neg" else v
    if op == "**":
        a = _num(_eval(node[1], env, text, budget), text)
        b = _num(_eval(node[2], env, text, budget), text)
        return _power(a, b, text, budget)
    if op == "call":
        return _call(node[1], [_eval(a, env, text, budget) for a in node[2]], text, budget)
    if op == "shape":
        return _axis(node[1], env, text)
    raise ExprError(f"cannot evaluate expression {text!r}.")  # pragma: no cover


def _arith(op, a, b, text, budget):
    _spend(budget, text, a, b)
    if op == "+":
        return _check_size(a + b, text)
    if op == "-":
        return _check_size(a - b, text)
    if op == "*":
        return _check_size(a * b, text)
    if b == 0:
        raise ExprError(f"division by zero in expression {text!r}.")
    if op == "/":
        return _check_size(Fraction(a) / Fraction(b), text)
    if op == "//":
        return _check_size(Fraction(a) // Fraction(b), text)
    return _check_size(Fraction(a) % Fraction(b), text)


def _compare(op, a, b, text, budget):
    if op in ("==", "!="):
        for v in (a, b):
            if not isinstance(v, (bool, int, Fraction)):
                raise ExprError(f"{_what(v)} is compared in expression {text!r}; only numbers and booleans can be.")
    else:
        a, b = _num(a, text), _num(b, text)
    _spend(budget, text, a, b)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _power(a, b, text, budget):
    if isinstance(b, Fraction):
        raise ExprError(f"the exponent must be a whole number in expression {text!r}.")
    if a == 0 and b < 0:
        raise ExprError(f"division by zero in expression {text!r}.")
    if _bits(a) * abs(b) > MAX_BITS:
        raise ExprError(f"expression {text!r} produces a number too large to be a size.")
    if budget is not None:  # the cost of the result's size, before it is built
        bits = _bits(a) * abs(b)
        budget.spend((bits * bits) >> BIG_STEP_BITS, text)
    return _check_size(Fraction(a) ** b, text)


def _axis(axis, env, text):
    tensor = env.get(INPUT) if hasattr(env, "get") else None
    if not isinstance(tensor, Tensor):
        raise ExprError(
            f"in.{axis} reads the input of a layer or block, and there is none here, in expression {text!r}."
        )
    shape = tensor.lookup()
    if axis == "channels":
        return shape[-1]
    if len(shape) != 3:
        shown = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ExprError(f"in.{axis} needs an (H, W, C) input, but the input has shape {shown}, in expression {text!r}.")
    return shape[0] if axis == "height" else shape[1]


def _call(name, args, text, budget):
    if name not in FUNCTIONS:
        raise ExprError(f"unknown function '{name}' in expression {text!r}.{suggest(name, FUNCTIONS)}")
    fn, lo, hi = FUNCTIONS[name]
    if len(args) < lo or (hi is not None and len(args) > hi):
        want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi else f"at least {lo}"
        noun = "argument" if hi == 1 else "arguments"
        raise ExprError(f"function '{name}' takes {want} {noun}, got {len(args)}, in expression {text!r}.")
    args = [_num(a, text) for a in args]
    if name == "make_divisible" and any(a <= 0 for a in args[1:]):
        raise ExprError(f"make_divisible needs a positive divisor in expression {text!r}.")
    if name == "round" and len(args) == 2 and not (isinstance(args[1], int) and abs(args[1]) <= MAX_ROUND_DIGITS):
        raise ExprError(
            f"function 'round' takes a whole number of digits from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}, "
            f"in expression {text!r}."
        )
    _spend(budget, text, *args)
    try:
        value = fn(*args)
    except ExprError as err:
        raise ExprError(f"{err.message}, in expression {text!r}.") from None
    except (ArithmeticError, ValueError, TypeError) as err:  # a function's own refusal, never a traceback
        raise ExprError(
            f"function '{name}' cannot take {', '.join(map(str, args))} ({err}), in expression {text!r}."
        ) from None
    return _check_size(value, text)
