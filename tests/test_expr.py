"""The spec expression language: exact arithmetic, its own grammar, no eval."""

import ast
import math
import os
import random
import time
import warnings
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flopcount.expr import (
    FUNCTIONS,
    Budget,
    ExprError,
    Tensor,
    evaluate,
    fixed,
    parse,
    plain,
)


@pytest.mark.parametrize(
    "text, env, value",
    [
        ("32 * alpha", {"alpha": Fraction(3, 4)}, 24),
        ("int(32 * alpha)", {"alpha": Fraction(1, 3)}, 10),
        ("0.1 + 0.2", {}, Fraction(3, 10)),
        ("7 // 2", {}, 3),
        ("-7 // 2", {}, -4),
        ("7 / 2", {}, Fraction(7, 2)),
        ("2 ** 10", {}, 1024),
        ("2 ** -1", {}, Fraction(1, 2)),
        ("(1 + 2) * 3", {}, 9),
        ("1 + 2 * 3", {}, 7),
        ("-2 ** 2", {}, -4),
        ("2 if i == 0 else 1", {"i": 0}, 2),
        ("2 if i == 0 else 1", {"i": 3}, 1),
        ("min(3, 1, 2) + max(4, 5)", {}, 6),
        ("floor(7 / 2) + ceil(7 / 2)", {}, 7),
        ("round(2.5) + round(3.5) + round(1.25, 1)", {}, 2 + 4 + Fraction(12, 10)),  # Python's: half to even
        ("make_divisible(32 * 0.35, 8)", {}, 16),  # MobileNetV2's rule: 11.2 -> 8 < 0.9 x 11.2, so 16
        ("make_divisible(96 * 0.75, 8)", {}, 72),
        ("not false and true", {}, True),
        ("1e3", {}, 1000),
        ("1e1000 // 1e999", {}, 10),
        ("2.5e-3", {}, Fraction(1, 400)),
        ("round(1250, -2) + round(0.125, 2)", {}, 1200 + Fraction(12, 100)),
        ("round(1, 100)", {}, 1),
        ("r % 32 == 0", {"r": 224}, True),
    ],
)
def test_evaluates_exactly(text, env, value):
    assert evaluate(text, env) == value


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 / 0", "division by zero"),
        ("1 // (2 - 2)", "division by zero"),
        ("beta * 2", "undefined variable 'beta'"),
        ("alpah * 2", "Did you mean 'alpha'?"),
        ("__import__('os').system('true')", "unexpected character"),
        ("open('x')", "unexpected character"),
        ("foo(1)", "unknown function 'foo'"),
        ("2 ** 100000", "too large"),
        ("1 +", "ends too early"),
        ("(1", "ends too early"),
        ("1 2", "unexpected '2'"),
        ("x.y", "unexpected '.'"),
        ("in.depth", "the input has no 'depth'; use in.channels, in.height or in.width"),
        ("in + 1", "'in' is the input; read its shape as in.channels"),
        ("in.channels", "in.channels reads the input of a layer or block, and there is none here"),
        ("", "empty expression"),
        ("min()", "takes at least 2 arguments"),
        ("max(4)", "function 'max' takes at least 2 arguments, got 1"),
        ("min(alpha)", "function 'min' takes at least 2 arguments, got 1"),
        ("log(0)", "function 'log' needs a positive number"),
        ("log(8, 1)", "a positive base other than 1"),
        ("sqrt(-4)", "function 'sqrt' needs a number >= 0"),
        ("sqrt(3 * 2 ** 1500)", "works in double precision"),
        ("1 and 2 + true", "boolean is used as a number"),
        ("true + 1", "boolean is used as a number"),
        ("2 ** 0.5", "exponent must be a whole number"),
        ("1e5000", "the number 1e5000 in expression '1e5000' is too large"),
        ("1e-5000", "is too large or too precise"),
        ("1e99999999 * 0", "the number 1e99999999"),  # refused from its exponent's text, never built
        ("round(1, 10**9)", "function 'round' takes a whole number of digits from -100 to 100"),
        ("round(2, 0.5)", "a whole number of digits"),
        ("round(2, -101)", "a whole number of digits"),
        ("(" * 200 + "1" + ")" * 200, "nested too deeply"),
    ],
)
def test_rejects_with_a_clear_message(text, message):
    with pytest.raises(ExprError, match=None) as err:
        evaluate(text, {"alpha": 1})
    assert message in str(err.value)


def test_number_literals_are_bounded_before_they_are_built():
    start = time.process_time()
    for text in ("1e99999999", "1e-99999999", "0.5e+00000099999999", "9" * 990 + "e9999"):
        with pytest.raises(ExprError, match="too large or too precise"):
            evaluate(text, {})
    assert time.process_time() - start < 1


@pytest.mark.parametrize(
    "value, places, text",
    [
        (Fraction(1383575, 10000), 2, "138.36"),
        (Fraction(1125, 1000), 2, "1.13"),  # a tie rounds away from zero, as round() does
        (Fraction(-1125, 1000), 2, "-1.13"),
        (Fraction(73, 576), 6, "0.126736"),
        (Fraction(1, 1000), 2, "0.00"),
        (7, 0, "7"),
        (Fraction(10**400, 3), 2, "3" * 400 + ".33"),  # beyond a float's range, still exact
    ],
)
def test_fixed_is_exact_at_any_size(value, places, text):
    assert fixed(value, places) == text


@pytest.mark.parametrize(
    "value, shown",
    [(Fraction(6, 2), 3), (Fraction(1, 4), 0.25), (Fraction(10**400 + 1, 2), f"{10**400 + 1}/2"), (True, True), (5, 5)],
)
def test_plain_never_overflows(value, shown):
    assert plain(value) == shown


# The examples: each was read with the wrong precedence (or refused) before.
@pytest.mark.parametrize(
    "text, value",
    [
        ("a and not b", True),  # was a syntax error
        ("not a and b", False),  # was not (a and b): True
        ("not false or true", True),  # was not (false or true): False
        ("a or b and c", True),  # was (a or b) and c: False
        ("not b == a", True),  # not (b == a)
        ("1 < 2 < 3", True),  # chained, as Python
        ("3 > 2 > 2", False),
        ("2 if a else 3 if b else 4", 2),
        ("1 and 5", 5),  # and/or return an operand, as Python's
        ("0 or 7", 7),
        ("-2 ** 2", -4),
        ("2 ** -1", Fraction(1, 2)),
        ("2 ** 3 ** 2", 512),
        ("True and not False", True),
    ],
)
def test_boolean_and_arithmetic_precedence_is_pythons(text, value):
    env = {"a": True, "b": False, "c": False}
    assert evaluate(text, env) == value
    assert type(evaluate(text, env)) is type(value) or not isinstance(value, bool)


@pytest.mark.parametrize(
    "text, value",
    [
        ("log2(1024)", 10),
        ("log2(1 / 8)", -3),
        ("log(1000, 10) + log10(100)", 5),
        ("log(1)", 0),
        ("sqrt(49) + sqrt(9 / 4)", Fraction(17, 2)),
        ("sqrt(2)", Fraction(math.sqrt(2))),  # NumPy's double, exactly
        ("log(2)", Fraction(math.log(2))),
        # RegNetY-400MF's quantised widths (Radosavovic et al. 2020; torchvision's _BlockParams):
        # w_0 = 48, w_a = 27.89, w_m = 2.09, q = 8: block 3 is 48 * 2.09 ** round(log((3 * 27.89 + 48) / 48) / log(2.09))
        ("round(48 * 2.09 ** round(log((3 * 27.89 + 48) / 48) / log(2.09)) / 8) * 8", 104),
    ],
)
def test_functions_papers_use(text, value):
    assert evaluate(text, {}) == value


def test_in_reads_the_input_shape_only_when_used():
    looked = []

    def lookup():
        looked.append(1)
        return (56, 28, 96)

    env = {"in": Tensor(lookup)}
    assert evaluate("in.channels * 6 + in.height - in.width", env) == 96 * 6 + 28
    assert evaluate("1 if true else in.channels", env) == 1 and len(looked) == 3
    vector = {"in": Tensor(lambda: (192,))}
    assert evaluate("in.channels // 2", vector) == 96
    with pytest.raises(ExprError, match=r"in.height needs an \(H, W, C\) input, but the input has shape \(192,\)"):
        evaluate("in.height", vector)


@pytest.mark.parametrize(
    "text, env, message",
    [
        ("act + 1", {"act": "relu"}, "the word 'relu' is used as a number"),
        ("k * 2", {"k": [1, 7]}, "the list [1, 7] is used as a number"),
        ("act == 1", {"act": "relu"}, "the word 'relu' is compared"),
        ("2 if act else 1", {"act": "relu"}, "the word 'relu' is used as a condition"),
    ],
)
def test_words_and_lists_are_values_never_numbers(text, env, message):
    with pytest.raises(ExprError) as err:
        evaluate(text, env)
    assert message in str(err.value)
    assert evaluate("act", {"act": "relu"}) == "relu"


def test_a_budget_stops_big_number_work_before_it_is_done():
    big = {"x": Fraction(3**2580, 7**1400)}  # about 4,000 bits over 4,000 bits
    budget = Budget(100_000)
    start = time.process_time()
    with pytest.raises(ExprError, match="more than the limit of 100,000 steps of work"):
        for _ in range(10_000):
            evaluate("x + x - x + x - x", big, budget)
    assert time.process_time() - start < 5  # 0.1 s on a quiet machine; 10,000 evaluations unbounded, over 3 s
    assert budget.used < 100_000 + 5_000  # stopped at the operation that would pass it
    small = Budget(1000)
    for _ in range(100):
        evaluate("1 + 2 * 3", {}, small)  # 5 nodes each, small numbers
    assert small.used == 500


# ---------------------------------------------------------------- the grammar against Python's own

EXAMPLES = int(os.environ.get("FLOPCOUNT_FUZZ_EXAMPLES", "300"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


class Exact(Fraction):
    """Python's Fraction, every result kept a Fraction: Fraction // Fraction and math.floor give ints, and an int
    to a negative power is a float, which would make the reference inexact where the language is exact."""


def _exact(value):
    return Exact(value) if isinstance(value, (int, Fraction)) and not isinstance(value, bool) else value


def _kept_exact(method):
    return lambda *operands: _exact(method(*operands))


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(Exact, _name, _kept_exact(getattr(Fraction, _name)))
for _name in ("__neg__", "__pos__", "__abs__"):
    setattr(Exact, _name, _kept_exact(getattr(Fraction, _name)))

NUMBERS = {"a": Exact(3), "b": Exact(-7, 2), "c": Exact(0), "n": Exact(10)}
FLAGS = {"p": True, "q": False}
ENV = {**NUMBERS, **FLAGS}
PY_ENV = {
    **ENV,
    "F": Exact,
    "floor": lambda x: Exact(math.floor(x)),
    "ceil": lambda x: Exact(math.ceil(x)),
    "min": min,
    "max": max,
    "abs": abs,
    "int": lambda x: Exact(int(x)),
    "round": lambda x, n=None: _exact(round(x) if n is None else round(x, n)),
}
LITERALS = ["0", "1", "2", "3", "7", "10", "0.5", "2.5", ".25", "1e2", "12.75"]
EXPONENTS = ["0", "1", "2", "3", "-1", "-2", "+2", "(1 + 1)", "2 ** 1", "(-1)"]  # small, so Python never hangs
BOOLS = ["true", "false", "True", "False"]


def join(*parts):
    """(ours, Python's) texts from (ours, Python's) pairs and plain tokens."""
    return tuple(" ".join(p if isinstance(p, str) else p[k] for p in parts) for k in (0, 1))


class Grammar:
    """Random texts of the grammar, level by level, with typed operands: arithmetic and ordering get
    numbers, conditions anything. Re-entries into expr (parentheses, arguments, else) are at most
    MAX_REENTRY deep and chains are short, so a text has tens of tokens."""

    MAX_REENTRY = 3

    def __init__(self, rnd):
        self.r = rnd

    def text(self):
        """A text within the language's 1,000-character limit (a few pass it; those are drawn again)."""
        while True:
            texts = self.expr()
            if len(texts[0]) <= 1000:
                return texts

    def extra(self):
        return self.r.choice((0, 0, 0, 0, 0, 1, 1, 2))

    def expr(self, kind="any", depth=0):
        body = self.disj(kind, depth)
        if depth >= self.MAX_REENTRY or self.r.random() < 0.8:
            return body
        return join(body, "if", self.disj("any", depth + 1), "else", self.expr(kind, depth + 1))

    def disj(self, kind, depth):
        return self.chain("or", self.conj, kind, depth)

    def conj(self, kind, depth):
        return self.chain("and", self.inv, kind, depth)

    def chain(self, op, below, kind, depth):
        parts = [below(kind, depth)]
        for _ in range(self.extra()):
            parts += [op, below(kind, depth)]
        return join(*parts)

    def inv(self, kind, depth):
        if kind != "num" and self.r.random() < 0.2:
            return join("not", self.inv("any", depth))
        return self.cmp(kind, depth)

    def cmp(self, kind, depth):
        if kind == "num" or (kind == "any" and self.r.random() < 0.5):
            return self.sum(kind, depth)
        ops = [self.r.choice(["==", "!=", "<", "<=", ">", ">="]) for _ in range(1 + self.extra())]
        # == and != compare anything; an ordering compares numbers only
        typed = "num" if any(o not in ("==", "!=") for o in ops) else "any"
        parts = [self.sum(typed, depth)]
        for o in ops:
            parts += [o, self.sum(typed, depth)]
        return join(*parts)

    def sum(self, kind, depth):
        return self.operators(["+", "-"], self.term, kind, depth)

    def term(self, kind, depth):
        return self.operators(["*", "/", "//", "%"], self.factor, kind, depth)

    def operators(self, ops, below, kind, depth):
        parts = [below(kind, depth)]
        if kind == "num":
            for _ in range(self.extra()):
                parts += [self.r.choice(ops), below("num", depth)]
        return join(*parts)

    def factor(self, kind, depth):
        if kind == "num" and self.r.random() < 0.2:
            return join(self.r.choice(["-", "+"]), self.factor("num", depth))
        return self.power(kind, depth)

    def power(self, kind, depth):
        base = self.primary(kind, depth)
        if kind != "num" or self.r.random() < 0.8:
            return base
        exponent = self.r.choice(EXPONENTS)
        return join(base, "**", (exponent, exponent))

    def primary(self, kind, depth):
        if kind == "any":
            kind = self.r.choice(["num", "bool"])
        deeper = depth < self.MAX_REENTRY and self.r.random() < 0.15
        if deeper and self.r.random() < 0.5:
            return join("(", self.expr(kind, depth + 1), ")")
        if kind == "bool":
            word = self.r.choice(BOOLS + list(FLAGS))
            return word, {"true": "True", "false": "False"}.get(word, word)
        if deeper:
            fn = self.r.choice(["min", "max", "abs", "floor", "ceil", "int", "round", "round2"])
            if fn == "round2":
                digits = self.r.choice(["0", "1", "2", "-1"])
                return join("round", "(", self.expr("num", depth + 1), ",", (digits, digits), ")")
            args = []
            for i in range(self.r.choice((2, 3)) if fn in ("min", "max") else 1):
                args += ([","] if i else []) + [self.expr("num", depth + 1)]
            return join(fn, "(", *args, ")")
        if self.r.random() < 0.5:
            name = self.r.choice(list(NUMBERS))
            return name, name
        text = self.r.choice(LITERALS)
        return text, f"F('{text}')"


@PROPERTY
@given(st.integers(0, 2**64))
def test_agrees_with_python_on_random_expressions(seed):
    """Python's own parser and operators (numbers as Fractions, kept exact) decide what every text means."""
    ours_text, py_text = Grammar(random.Random(seed)).text()
    event(f"{len(ours_text.split()) // 10 * 10}+ tokens")
    try:
        expected = eval(py_text, {"__builtins__": {}}, PY_ENV)  # our generated text, never spec input
    except ZeroDivisionError:
        with pytest.raises(ExprError, match="division by zero"):
            evaluate(ours_text, ENV)
        event("division by zero")
        return
    assert not isinstance(expected, float), py_text  # the reference stayed exact
    value = evaluate(ours_text, ENV)
    assert value == expected and isinstance(value, bool) == isinstance(expected, bool), (ours_text, value, expected)
    event(f"value is {'a boolean' if isinstance(value, bool) else 'a number'}")


SOUP = [
    "a",
    "b",
    "p",
    "1",
    "2",
    "0.5",
    "true",
    "false",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    "and",
    "or",
    "not",
    "if",
    "else",
]


@PROPERTY
@given(st.lists(st.sampled_from(SOUP), min_size=1, max_size=12))
def test_accepts_only_what_python_parses(tokens):
    """Random token sequences: ours parses a text only if Python does, and then means the same."""
    ours_text = " ".join(tokens)
    py_text = " ".join(
        {"true": "True", "false": "False", "1": "F(1)", "2": "F(2)", "0.5": "F('0.5')"}.get(t, t) for t in tokens
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # 1 (2): "'Fraction' object is not callable"
            tree = ast.parse(py_text, mode="eval")
    except SyntaxError:
        with pytest.raises(ExprError):
            parse(ours_text)
        event("both refuse")
        return
    try:
        parse(ours_text)
    except ExprError:
        # Python reads () as an empty tuple and calls any value ('1 ( )' is F(1)()); the language has
        # no tuples and calls only a function's name
        assert any(
            isinstance(n, ast.Tuple) or (isinstance(n, ast.Call) and not isinstance(n.func, ast.Name))
            for n in ast.walk(tree)
        ), ours_text
        return
    try:
        value = evaluate(ours_text, ENV)
    except ExprError:
        event("refused when evaluated")  # a boolean used as a number, a division by zero, too large
        return
    event("both evaluate")
    expected = eval(compile(tree, "<soup>", "eval"), {"__builtins__": {}}, PY_ENV)
    assert value == expected, (ours_text, value, expected)


ARGUMENTS = ["0", "1", "-1", "2.5", "1/3", "true", "2**4000", "-(2**4000)", "10**-300", "x", "in.channels"]


@PROPERTY
@given(st.sampled_from(sorted(FUNCTIONS) + ["nope", "MAX"]), st.lists(st.sampled_from(ARGUMENTS), max_size=4))
def test_every_function_answers_any_arguments_with_a_value_or_its_own_error(name, args):
    """The class of max(4): whatever a function is given, it returns a value or raises ExprError, never a traceback."""
    env = {"x": Fraction(7, 3), "in": Tensor(lambda: (4, 4, 3))}
    try:
        value = evaluate(f"{name}({', '.join(args)})", env)
    except ExprError:
        event("refused")
        return
    assert isinstance(value, (int, Fraction, bool))
    event("value")
