"""The expression language at its edges: exact messages, bounds met exactly, values and their types.

Each case tells a rule from its neighbour (< from <=, a limit from the limit plus one, the text in a
message from no text), so that a change to the rule fails a test; see tests/mutation/RESULTS.md.
"""

import math
import operator
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flopcount.expr import Budget, ExprError, Tensor, UndefinedVariable, Word, evaluate, exact, fixed, parse, plain

BIG = 2**4000  # 4,001 bits: an operation on it costs (4001 * 4001) >> 16 = 244 steps
BIG_COST = (4001 * 4001) >> 16


def refusal(text, env=None, budget=None) -> str:
    with pytest.raises(ExprError) as err:
        evaluate(text, env or {}, budget)
    return str(err.value)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1e3", 1000),  # a whole literal is an int, not Fraction(1000)
        ("0.5 * 4", 2),
        ("0.5", Fraction(1, 2)),
        ("2.0", 2),
        ("1e1000 // 1e999", 10),  # an exponent of four digits is built and checked
        ("1e1233 // 1e1232", 10),  # 10 ** 1233 has 4,096 bits: the largest power of ten there is
        ("1e-1233 * 1e1233", 1),
        ("2 ** 2048", 2**2048),  # 2 bits x 2,048 = 4,096: at the bound, allowed
        ("2 ** 2000 * 2 ** 2000 * 2 ** 95", 2**4095),  # 4,096 bits, the most a value may have
        ("sqrt(0)", 0),
        ("sqrt(1 / 4)", Fraction(1, 2)),
        ("sqrt((2 ** 60 + 1) ** 2)", 2**60 + 1),  # exact, where a double would give 2 ** 60
        ("sqrt(1 / (2 ** 60 + 1) ** 2)", Fraction(1, 2**60 + 1)),
        ("sqrt(1 + 2 ** -60)", 1),  # a double's 1.0: its square root, not an error
        ("sqrt(2)", Fraction(math.sqrt(2))),
        ("log2(3)", Fraction(math.log2(3))),  # 2 ** 2 is not 3: the double, not the nearest whole power
        ("log10(1 / 1000)", -3),
        ("log(1 / 8, 2)", -3),
        ("log(8, 1 / 2)", -3),
        ("log(81, 3)", 4),
        ("log(10, 3)", Fraction(math.log(10)) / Fraction(math.log(3))),  # NumPy's log(10) / log(3)
        ("log(1)", 0),
        ("log2(x)", 4096),  # 2 ** 4096, exactly: an estimate of 4,096 is still tried
        ("make_divisible(7, 1)", 7),
        ("make_divisible(8, 8, 1)", 8),
        ("make_divisible(3, 8, 1)", 9),  # new_v = max(1, 0) = 1 < 0.9 * 3, so one divisor up
        ("int(3.99) + int(-3.99)", 0),
        ("round(2.675, 2)", Fraction(268, 100)),  # exact: 2.675 is a tie, rounded to even
        ("abs(-7 / 2)", Fraction(7, 2)),
        ("floor(-1 / 2) + ceil(-1 / 2)", -1),
    ],
)
def test_values_and_their_types(text, value):
    result = evaluate(text, {"x": 2**4096})
    assert result == value
    assert type(result) is type(value)  # a whole value is an int, never Fraction(n, 1)


# torchvision's _make_divisible (models/_utils.py), the rule MobileNetV2 and V3 round widths with:
# new_v = max(min_value, int(v + divisor / 2) // divisor * divisor); if new_v < 0.9 * v: new_v += divisor
@pytest.mark.parametrize(
    "v, divisor, expected",
    [
        ("100", 8, 104),  # int(104) // 8 * 8: rounds to the nearest multiple, not down (96)
        ("99", 8, 96),  # 96 >= 0.9 * 99 = 89.1: kept, not raised to 104
        ("10", 9, 9),  # 9 == 0.9 * 10 exactly: not below, so kept
        ("9.5", 8, 16),  # 8 < 0.9 * 9.5 = 8.55: one divisor up
        ("11.2", 8, 16),
        ("12", 8, 16),
        ("3", 8, 8),  # the divisor is the least it returns
        ("0.5", 8, 8),
    ],
)
def test_make_divisible_is_torchvisions(v, divisor, expected):
    assert evaluate(f"make_divisible({v}, {divisor})", {}) == expected


@given(st.integers(1, 5000), st.integers(1, 64))
def test_make_divisible_agrees_with_torchvision_on_whole_widths(v, divisor):
    new_v = max(divisor, (v + divisor // 2) // divisor * divisor)  # int(v + divisor / 2), for a whole v
    if new_v * 10 < 9 * v:  # new_v < 0.9 * v, without a double's rounding
        new_v += divisor
    assert evaluate(f"make_divisible({v}, {divisor})", {}) == new_v


COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@pytest.mark.parametrize("op", COMPARE)
@pytest.mark.parametrize("a, b", [(1, 2), (2, 2), (3, 2), (Fraction(1, 3), Fraction(1, 3))])
def test_each_comparison_at_equality_and_either_side(op, a, b):
    assert evaluate(f"a {op} b", {"a": a, "b": b}) is COMPARE[op](a, b)


BOOLEAN = "a boolean is used as a number in expression"


@pytest.mark.parametrize(
    "text, message",
    [
        ("sqrt(-4)", "function 'sqrt' needs a number >= 0, in expression 'sqrt(-4)'."),
        (
            "sqrt(3 * 2 ** 1500)",
            f"function 'sqrt' works in double precision, and {3 * 2**1500} is outside its range, "
            "in expression 'sqrt(3 * 2 ** 1500)'.",
        ),
        (
            "sqrt(3 * 2 ** -1100)",  # a double's 0.0: refused, not answered 0
            f"function 'sqrt' works in double precision, and {Fraction(3, 2**1100)} is outside its range, "
            "in expression 'sqrt(3 * 2 ** -1100)'.",
        ),
        (
            "log10(3 * 10 ** -400)",
            f"function 'log10' works in double precision, and {Fraction(3, 10**400)} is outside its range, "
            "in expression 'log10(3 * 10 ** -400)'.",
        ),
        (
            "log2(w)",  # 2 ** 4097: past any value's bits, so no whole power is tried; past a double's range
            f"function 'log2' works in double precision, and {2**4097} is outside its range, in expression 'log2(w)'.",
        ),
        (
            "log(2, 1 + 2 ** -100)",
            f"function 'log' works in double precision, in which the base {1 + Fraction(1, 2**100)} is 1, "
            "in expression 'log(2, 1 + 2 ** -100)'.",
        ),
        (
            "log(3, (3 ** 40 + 1) / 3 ** 40)",
            f"function 'log' works in double precision, in which the base {Fraction(3**40 + 1, 3**40)} is 1, "
            "in expression 'log(3, (3 ** 40 + 1) / 3 ** 40)'.",
        ),
        (
            "log(0)",
            "function 'log' needs a positive number (and a positive base other than 1), in expression 'log(0)'.",
        ),
        (
            "log(8, 0)",
            "function 'log' needs a positive number (and a positive base other than 1), in expression 'log(8, 0)'.",
        ),
        (
            "log(1, 1)",
            "function 'log' needs a positive number (and a positive base other than 1), in expression 'log(1, 1)'.",
        ),
        ("1e1234", "the number 1e1234 in expression '1e1234' is too large or too precise to be a size."),
        ("1e-1234", "the number 1e-1234 in expression '1e-1234' is too large or too precise to be a size."),
        ("2 ** 2049", "expression '2 ** 2049' produces a number too large to be a size."),
        ("x * 2", "expression 'x * 2' produces a number too large to be a size."),
        ("x + x", "expression 'x + x' produces a number too large to be a size."),
        ("x - y", "expression 'x - y' produces a number too large to be a size."),
        ("1 / y / x", "expression '1 / y / x' produces a number too large to be a size."),
        ("x // (1 / x)", "expression 'x // (1 / x)' produces a number too large to be a size."),
        ("f % g", "expression 'f % g' produces a number too large to be a size."),
        ("abs(x * x)", "expression 'abs(x * x)' produces a number too large to be a size."),
        (
            "log(3 * 2 ** 1500, 3)",
            f"function 'log' works in double precision, and {3 * 2**1500} is outside its range, "
            "in expression 'log(3 * 2 ** 1500, 3)'.",
        ),
        (
            "log(2, 3 * 2 ** 1500)",  # the base past a double's range
            f"function 'log' works in double precision, and {3 * 2**1500} is outside its range, "
            "in expression 'log(2, 3 * 2 ** 1500)'.",
        ),
        ("make_divisible(m, 2)", "expression 'make_divisible(m, 2)' produces a number too large to be a size."),
        ("(1 / 0) + 1", "division by zero in expression '(1 / 0) + 1'."),  # the whole text, from inside it too
        ("1 + (1 / 0)", "division by zero in expression '1 + (1 / 0)'."),
        ("1 + true", f"{BOOLEAN} '1 + true'."),
        ("-true", f"{BOOLEAN} '-true'."),
        ("2 ** true", f"{BOOLEAN} '2 ** true'."),
        ("true ** 2", f"{BOOLEAN} 'true ** 2'."),
        ("(1 / 0) < 1", "division by zero in expression '(1 / 0) < 1'."),
        ("1 < (1 / 0)", "division by zero in expression '1 < (1 / 0)'."),
        ("(1 / 0) or 1", "division by zero in expression '(1 / 0) or 1'."),
        ("0 or (1 / 0)", "division by zero in expression '0 or (1 / 0)'."),
        ("not (1 / 0)", "division by zero in expression 'not (1 / 0)'."),
        ("act or 1", "the word 'relu' is used as a condition in expression 'act or 1'."),
        ("not act", "the word 'relu' is used as a condition in expression 'not act'."),
        ("t + 1", "the input itself (not one of its sizes) is used as a number in expression 't + 1'."),
        ("nothing + 1", "None is used as a number in expression 'nothing + 1'."),
        ("true < 1", f"{BOOLEAN} 'true < 1'."),
        ("1 < true", f"{BOOLEAN} '1 < true'."),
        ("min(true, 1)", f"{BOOLEAN} 'min(true, 1)'."),
        ("abs(1, 2)", "function 'abs' takes 1 argument, got 2, in expression 'abs(1, 2)'."),
        ("round(1, 2, 3)", "function 'round' takes 1 to 2 arguments, got 3, in expression 'round(1, 2, 3)'."),
        ("max(1)", "function 'max' takes at least 2 arguments, got 1, in expression 'max(1)'."),
        ("mni(1, 2)", "unknown function 'mni' in expression 'mni(1, 2)'. Did you mean 'min'?"),
        ("make_divisible(8, 0)", "make_divisible needs a positive divisor in expression 'make_divisible(8, 0)'."),
        ("make_divisible(8, -8)", "make_divisible needs a positive divisor in expression 'make_divisible(8, -8)'."),
        ("make_divisible(8, 8, 0)", "make_divisible needs a positive divisor in expression 'make_divisible(8, 8, 0)'."),
    ],
)
def test_refusals_word_for_word(text, message):
    env = {
        "x": 2**4095,  # 4,096 bits: any growth passes the bound
        "y": -(2**4095),
        "f": Fraction(1, 2**3000),
        "g": Fraction(1, 3**1900),  # f % g has a denominator of 2 ** 3000 * 3 ** 1900: 6,012 bits
        "t": Tensor(lambda: (4, 4, 3)),
        "nothing": None,
        "w": 2**4097,
        "m": 2**4096 - 1,  # 4,096 bits; rounded up to a multiple of 2, 4,097
        "act": "relu",
    }
    assert refusal(text, env) == message


def test_the_shape_in_a_rank_message_is_pythons_tuple():
    matrix = {"in": Tensor(lambda: (2, 3))}
    assert refusal("in.height", matrix) == (
        "in.height needs an (H, W, C) input, but the input has shape (2, 3), in expression 'in.height'."
    )
    vector = {"in": Tensor(lambda: (5,))}
    assert refusal("in.width", vector) == (
        "in.width needs an (H, W, C) input, but the input has shape (5,), in expression 'in.width'."
    )
    image = {"in": Tensor(lambda: (7, 5, 3))}
    assert [evaluate(f"in.{axis}", image) for axis in ("height", "width", "channels")] == [7, 5, 3]


class Lookup:
    """Variables in a mapping that has no get(): the input is still 'none here', not a crash."""

    def __contains__(self, name):
        return name == "a"

    def __getitem__(self, name):
        return 1


def test_any_mapping_of_variables_serves():
    assert evaluate("a + 1", Lookup()) == 2
    assert refusal("in.channels", Lookup()) == (
        "in.channels reads the input of a layer or block, and there is none here, in expression 'in.channels'."
    )


# ---------------------------------------------------------------- the work budget


@pytest.mark.parametrize(
    "text, steps",
    [
        ("1 + 2 * 3", 5),  # a step per node
        ("x + 1", 3 + BIG_COST),  # either operand's size counts
        ("1 + x", 3 + BIG_COST),
        ("x < 1", 3 + BIG_COST),
        ("1 < x", 3 + BIG_COST),
        ("abs(x)", 2 + BIG_COST),
        ("x ** 1", 3 + BIG_COST),  # the result's size, before it is built
        ("(x + 1) * 1", 5 + 2 * BIG_COST),  # operations inside operands are charged too
        ("1 * (x + 1)", 5 + 2 * BIG_COST),
        ("(x + 1) < 1", 5 + 2 * BIG_COST),
        ("1 < (x + 1)", 5 + 2 * BIG_COST),
        ("(x + 1) and 1", 5 + BIG_COST),
        ("0 or (x + 1)", 5 + BIG_COST),
        ("not (x + 1)", 4 + BIG_COST),
        ("1 if (x + 1) else 2", 6 + BIG_COST),
        ("(x + 1) if true else 1", 6 + BIG_COST),
        ("1 if false else (x + 1)", 6 + BIG_COST),
        ("-(x + 1)", 4 + BIG_COST),
        ("(x + 1) ** 1", 5 + 2 * BIG_COST),
        ("1 ** (x - x + 1)", 6 + BIG_COST),
        ("abs(x + 1)", 4 + 2 * BIG_COST),
        ("(x + 1) == 1", 5 + 2 * BIG_COST),
        ("y + 1", 3),  # 255 bits: (255 * 255) >> 16 is no step
        ("z + 1", 4),  # 256 bits: (256 * 256) >> 16 = 1 step
    ],
)
def test_what_each_expression_costs(text, steps):
    budget = Budget(10**6)
    evaluate(text, {"x": BIG, "y": 2**254, "z": 2**255}, budget)
    assert budget.used == steps


def test_a_budget_allows_its_limit_and_refuses_one_step_more():
    budget = Budget(6)
    evaluate("1 + 2", {}, budget)
    evaluate("1 + 2", {}, budget)  # 6 of 6
    assert budget.used == 6
    with pytest.raises(ExprError) as err:
        evaluate("1", {}, budget)
    assert err.value.option == "max_layers"
    assert str(err.value) == (
        "the spec's expressions need more than the limit of 6 steps of work (at expression '1'); numbers of "
        "thousands of bits cost many steps. The limit grows with max_layers."
    )
    assert err.value.text(lambda option: "--" + option.replace("_", "-")).endswith("grows with --max-layers.")


@pytest.mark.parametrize(
    "text, limit",
    [("x < 1", 3 + BIG_COST - 1), ("x ** 1", 3 + BIG_COST - 1), ("abs(x)", 2 + BIG_COST - 1)],
)
def test_a_budget_spent_by_big_numbers_names_the_expression(text, limit):
    message = refusal(text, {"x": BIG}, Budget(limit))
    assert message == (
        f"the spec's expressions need more than the limit of {limit} steps of work (at expression {text!r}); "
        "numbers of thousands of bits cost many steps. The limit grows with max_layers."
    )


@pytest.mark.parametrize(
    "spaces, shown",
    [(56, "'1 +" + " " * 56 + "1'"), (57, "'1 +" + " " * 54 + "...'")],  # 60 characters whole, 61 cut to 57 + ...
)
def test_a_long_expression_is_shortened_in_the_budget_message(spaces, shown):
    text = "1 +" + " " * spaces + "1"
    assert f"(at expression {shown})" in refusal(text, {}, Budget(0))


# ---------------------------------------------------------------- display


@pytest.mark.parametrize(
    "value, shown",
    [
        (Fraction(6001, 2), 3000.5),  # well within a float's range (and above 10 * 300)
        (Fraction(10**301 + 1, 2), f"{10**301 + 1}/2"),  # 5e300: past 10 ** 300, kept exact as text
        ([Fraction(1, 2), Fraction(4, 2), 3], [0.5, 2, 3]),
        ("same", "same"),
    ],
)
def test_plain(value, shown):
    assert plain(value) == shown


@pytest.mark.parametrize(
    "value, places, text",
    [(Fraction(1, 3), None, "0.33"), (0, 2, "0.00"), (Fraction(-1, 1000), 2, "-0.00"), (Fraction(5, 1000), 2, "0.01")],
)
def test_fixed(value, places, text):
    assert (fixed(value) if places is None else fixed(value, places)) == text


@pytest.mark.parametrize(
    "value, exact_value",
    [(0.1, Fraction(1, 10)), (2.0, 2), (1e300, 10**300), (-2.5, Fraction(-5, 2)), (3, 3), (True, True)],
)
def test_a_json_number_is_the_decimal_it_was_written_as(value, exact_value):
    result = exact(value)
    assert result == exact_value and type(result) is type(exact_value)


@pytest.mark.parametrize("value, shown", [(math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan")])
def test_a_float_that_is_no_number_is_refused(value, shown):
    with pytest.raises(ExprError) as err:
        exact(value)
    assert str(err.value) == f"{shown} is not a finite number."


def test_an_undefined_variable_says_which():
    with pytest.raises(UndefinedVariable) as err:
        evaluate("2 * widht + 1", {"width": 3})
    assert err.value.variable == "widht"
    assert str(err.value) == "undefined variable 'widht' in expression '2 * widht + 1'. Did you mean 'width'?"


# ---------------------------------------------------------------- parsing

INPUT_HELP = "'in' is the input; read its shape as in.channels, in.height or in.width, in expression"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty expression."),
        ("   ", "empty expression."),
        ("x" * 1001, "expression is longer than 1000 characters."),
        ("1 $ 2", "unexpected character '$' in expression '1 $ 2'."),
        ("1 +", "expression '1 +' ends too early."),
        ("not", "expression 'not' ends too early."),
        ("a if b", "expression 'a if b' ends too early."),
        ("min(1, 2", "expression 'min(1, 2' ends too early."),
        ("1 2", "unexpected '2' in expression '1 2'."),
        ("min(1 2)", "expected ')' but found '2' in expression 'min(1 2)'."),
        ("(1 2)", "expected ')' but found '2' in expression '(1 2)'."),
        ("1 +  $", "unexpected character '$' in expression '1 +  $'."),
        ("1 $$ 2", "unexpected character '$' in expression '1 $$ 2'."),
        ("a if b c", "expected 'else' but found 'c' in expression 'a if b c'."),
        ("if", "unexpected 'if' in expression 'if'."),
        (")", "unexpected ')' in expression ')'."),
        ("true(1)", "unexpected '(' in expression 'true(1)'."),
        ("2 ** ** 2", "unexpected '**' in expression '2 ** ** 2'."),
        ("a . b", "unexpected '.' in expression 'a . b'."),
        ("in", f"{INPUT_HELP} 'in'."),
        ("in + 1", f"{INPUT_HELP} 'in + 1'."),
        ("in.3", f"{INPUT_HELP} 'in.3'."),  # .3 is a number
        (
            "in.widht",
            "the input has no 'widht'; use in.channels, in.height or in.width, in expression 'in.widht'. "
            "Did you mean 'width'?",
        ),
    ],
)
def test_parse_refusals_word_for_word(text, message):
    with pytest.raises(ExprError) as err:
        parse(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "nest",
    [
        lambda n: "(" * n + "1" + ")" * n,
        lambda n: "-" * n + "1",
        lambda n: "not " * n + "1",
        lambda n: "2 ** " * n + "1",
        lambda n: "1 if 1 else " * n + "1",
        lambda n: "abs(" * n + "1" + ")" * n,
    ],
    ids=["parentheses", "signs", "not", "powers", "conditionals", "calls"],
)
def test_each_way_of_nesting_goes_50_deep(nest):
    parse(nest(50))
    with pytest.raises(ExprError) as err:
        parse(nest(51))
    assert str(err.value) == f"expression {nest(51)[:40]!r}... is nested too deeply."


@pytest.mark.parametrize(
    "text, tree",
    [
        ("  1 +\t2   ", ("arith", ("num", 1), (("+", ("num", 2)),))),  # space around and between tokens
        ("x" * 1000, ("var", "x" * 1000)),  # 1,000 characters: the longest text
        ("min()", ("call", "min", ())),  # the number of arguments is checked when called
        ("in.height", ("shape", "height")),
        ("not a", ("not", ("var", "a"))),
        ("-a ** 2", ("neg", ("**", ("var", "a"), ("num", 2)))),
        ("a < b <= c", ("cmp", ("var", "a"), (("<", ("var", "b")), ("<=", ("var", "c"))))),
        ("a or b or c", ("or", (("var", "a"), ("var", "b"), ("var", "c")))),
    ],
)
def test_parse_trees(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    "text",
    [
        "2 if (1 / 0) else 3",
        "(1 / 0) if true else 1",
        "1 if false else (1 / 0)",
        "-(1 / 0)",
        "(1 / 0) ** 1",
        "2 ** (1 / 0)",
        "abs(1 / 0)",
        "(1 / 0) == 1",
        "not (1 / 0) and true",
    ],
)
def test_an_error_deep_inside_names_the_whole_expression(text):
    assert refusal(text) == f"division by zero in expression {text!r}."


def test_a_word_where_a_number_belongs_names_its_variable():
    with pytest.raises(ExprError) as err:
        evaluate(Word("relu", "act"), {})
    assert str(err.value) == "'act' holds the word 'relu', not a number."
