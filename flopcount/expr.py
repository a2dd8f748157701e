"""A small arithmetic language for spec values, evaluated exactly (int and Fraction).

Grammar (Python-like, nothing else is accepted; spec text never reaches eval/exec):

    expr   := logic ['if' logic 'else' expr]
    logic  := 'not' logic | cmp (('and'|'or') cmp)*
    cmp    := sum [('=='|'!='|'<'|'<='|'>'|'>=') sum]
    sum    := term (('+'|'-') term)*
    term   := unary (('*'|'/'|'//'|'%') unary)*
    unary  := ('-'|'+') unary | power
    power  := atom ['**' unary]
    atom   := number | 'true' | 'false' | name | name '(' [expr (',' expr)*] ')' | '(' expr ')'

Numbers are exact: ``0.75`` is the fraction 3/4, ``/`` is exact division, ``//`` floors.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache

from .errors import SpecError, suggest

MAX_LENGTH = 1000
MAX_DEPTH = 50
MAX_BITS = 4096  # the largest magnitude any intermediate value may reach
MAX_ROUND_DIGITS = 100  # round(x, n) takes |n| up to this

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%()<>,]))"
)
_KEYWORDS = {"if", "else", "and", "or", "not", "true", "false"}


class ExprError(SpecError):
    """An expression that cannot be parsed or evaluated."""


class UndefinedVariable(ExprError):
    """An expression names a variable that is not defined; variable holds the name."""

    def __init__(self, message: str, variable: str):
        super().__init__(message)
        self.variable = variable


def _make_divisible(v, divisor, min_value=None):
    """MobileNetV2's rounding of channel counts to a multiple of divisor."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + Fraction(divisor) / 2) // divisor * divisor)
    if new_v < Fraction(9, 10) * v:
        new_v += divisor
    return new_v


def _round_half_up(v, ndigits=None):
    """Round half away from zero (as people do by hand), exactly."""
    v = Fraction(v)
    scale = Fraction(10) ** (ndigits or 0)
    scaled = abs(v) * scale
    r = math.floor(scaled + Fraction(1, 2))
    r = r if v >= 0 else -r
    return r if ndigits is None else Fraction(r) / scale


FUNCTIONS = {
    "min": (min, 1, None),
    "max": (max, 1, None),
    "abs": (abs, 1, 1),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "int": (int, 1, 1),
    "round": (_round_half_up, 1, 2),
    "make_divisible": (_make_divisible, 2, 3),
}


def exact(value):
    """A JSON float as the exact decimal it was written as (0.1 -> 1/10)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExprError(f"{value} is not a finite number.")
        value = Fraction(repr(value))
        return value.numerator if value.denominator == 1 else value
    return value


def plain(value):
    """An exact value for JSON or display: int, bool, a float when not whole, or 'p/q' beyond a float's range."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        return float(value) if abs(value) < Fraction(10) ** 300 else str(value)
    return value


def fixed(value, places: int = 2) -> str:
    """An exact value as a decimal with places digits (Fraction(1383575, 10000) -> '138.36').

    Integer arithmetic, so any size; a tie rounds away from zero, as round() does in a spec.
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


@lru_cache(maxsize=4096)
def parse(text: str):
    """Parse expression text into a tuple tree; raise ExprError on bad syntax."""
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
    return tree


class _Parser:
    def __init__(self, tokens, text):
        self.tokens = tokens
        self.text = text
        self.i = 0

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

    def expr(self, depth):
        if depth > MAX_DEPTH:
            raise ExprError(f"expression {self.text[:40]!r}... is nested too deeply.")
        body = self.logic(depth)
        if self.peek() == "if":
            self.take()
            cond = self.logic(depth)
            self.take("else")
            other = self.expr(depth + 1)
            return ("if", cond, body, other)
        return body

    def logic(self, depth):
        if self.peek() == "not":
            self.take()
            return ("not", self.logic(depth + 1))
        left = self.cmp(depth)
        while self.peek() in ("and", "or"):
            op = self.take()[1]
            left = (op, left, self.cmp(depth))
        return left

    def cmp(self, depth):
        left = self.sum(depth)
        if self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            left = (op, left, self.sum(depth))
        return left

    def sum(self, depth):
        left = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            left = (op, left, self.term(depth))
        return left

    def term(self, depth):
        left = self.unary(depth)
        while self.peek() in ("*", "/", "//", "%"):
            op = self.take()[1]
            left = (op, left, self.unary(depth))
        return left

    def unary(self, depth):
        if depth > MAX_DEPTH:
            raise ExprError(f"expression {self.text[:40]!r}... is nested too deeply.")
        if self.peek() in ("-", "+"):
            op = self.take()[1]
            return ("neg" if op == "-" else "pos", self.unary(depth + 1))
        return self.power(depth)

    def power(self, depth):
        base = self.atom(depth)
        if self.peek() == "**":
            self.take()
            return ("**", base, self.unary(depth + 1))
        return base

    def atom(self, depth):
        kind, value = self.take()
        if kind == "num":
            return ("num", _number(value, self.text))
        if kind == "name":
            if value in ("true", "false"):
                return ("num", value == "true")
            if value in _KEYWORDS:
                raise ExprError(f"unexpected {value!r} in expression {self.text!r}.")
            if self.peek() == "(":
                self.take()
                args = []
                if self.peek() != ")":
                    args.append(self.expr(depth + 1))
                    while self.peek() == ",":
                        self.take()
                        args.append(self.expr(depth + 1))
                self.take(")")
                return ("call", value, tuple(args))
            return ("var", value)
        if value == "(":
            inner = self.expr(depth + 1)
            self.take(")")
            return inner
        raise ExprError(f"unexpected {value!r} in expression {self.text!r}.")


def evaluate(text: str, env: dict):
    """Evaluate expression text with variables from env; result is int, Fraction or bool."""
    return _eval(parse(text), env, text)


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
    return value


def _eval(node, env, text):
    op = node[0]
    if op == "num":
        return node[1]
    if op == "var":
        name = node[1]
        if name not in env:
            raise UndefinedVariable(f"undefined variable '{name}' in expression {text!r}.{suggest(name, env)}", name)
        return env[name]
    if op == "if":
        return _eval(node[2] if _truth(_eval(node[1], env, text)) else node[3], env, text)
    if op == "not":
        return not _truth(_eval(node[1], env, text))
    if op in ("and", "or"):
        left = _truth(_eval(node[1], env, text))
        if op == "and":
            return left and _truth(_eval(node[2], env, text))
        return left or _truth(_eval(node[2], env, text))
    if op in ("neg", "pos"):
        v = _num(_eval(node[1], env, text), text)
        return -v if op == "neg" else v
    if op == "call":
        return _call(node[1], [_eval(a, env, text) for a in node[2]], text)
    a = _eval(node[1], env, text)
    b = _eval(node[2], env, text)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    a, b = _num(a, text), _num(b, text)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "+":
        return _check_size(a + b, text)
    if op == "-":
        return _check_size(a - b, text)
    if op == "*":
        return _check_size(a * b, text)
    if op in ("/", "//", "%"):
        if b == 0:
            raise ExprError(f"division by zero in expression {text!r}.")
        if op == "/":
            return _check_size(Fraction(a) / Fraction(b), text)
        if op == "//":
            return _check_size(Fraction(a) // Fraction(b), text)
        return _check_size(Fraction(a) % Fraction(b), text)
    if op == "**":
        if isinstance(b, Fraction):
            raise ExprError(f"the exponent must be a whole number in expression {text!r}.")
        if a == 0 and b < 0:
            raise ExprError(f"division by zero in expression {text!r}.")
        if _bits(a) * abs(b) > MAX_BITS:
            raise ExprError(f"expression {text!r} produces a number too large to be a size.")
        return _check_size(Fraction(a) ** b, text)
    raise ExprError(f"cannot evaluate expression {text!r}.")  # pragma: no cover


def _truth(value):
    return bool(value)


def _call(name, args, text):
    if name not in FUNCTIONS:
        raise ExprError(f"unknown function '{name}' in expression {text!r}.{suggest(name, FUNCTIONS)}")
    fn, lo, hi = FUNCTIONS[name]
    if len(args) < lo or (hi is not None and len(args) > hi):
        want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi else f"at least {lo}"
        raise ExprError(f"function '{name}' takes {want} arguments, got {len(args)}, in expression {text!r}.")
    args = [_num(a, text) for a in args]
    if name == "make_divisible" and any(a <= 0 for a in args[1:]):
        raise ExprError(f"make_divisible needs a positive divisor in expression {text!r}.")
    if name == "round" and len(args) == 2 and not (isinstance(args[1], int) and abs(args[1]) <= MAX_ROUND_DIGITS):
        raise ExprError(
            f"function 'round' takes a whole number of digits from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}, "
            f"in expression {text!r}."
        )
    return _check_size(fn(*args), text)
