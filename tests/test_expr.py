"""The spec expression language: exact arithmetic, its own grammar, no eval."""

import time
from fractions import Fraction

import pytest

from flopcount.expr import ExprError, evaluate, fixed, plain


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
        ("round(2.5) + round(1.25, 1)", {}, 3 + Fraction(13, 10)),
        ("make_divisible(32 * 0.35, 8)", {}, 16),  # MobileNetV2's rule: 11.2 -> 8 < 0.9 x 11.2, so 16
        ("make_divisible(96 * 0.75, 8)", {}, 72),
        ("not false and true", {}, True),
        ("1e3", {}, 1000),
        ("1e1000 // 1e999", {}, 10),
        ("2.5e-3", {}, Fraction(1, 400)),
        ("round(1234, -2) + round(0.125, 2)", {}, 1200 + Fraction(13, 100)),
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
        ("x.y", "unexpected character"),
        ("", "empty expression"),
        ("min()", "takes at least 1 arguments"),
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
    start = time.perf_counter()
    for text in ("1e99999999", "1e-99999999", "0.5e+00000099999999", "9" * 990 + "e9999"):
        with pytest.raises(ExprError, match="too large or too precise"):
            evaluate(text, {})
    assert time.perf_counter() - start < 1


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
