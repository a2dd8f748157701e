"""The spec expression language: exact arithmetic, its own grammar, no eval."""

from fractions import Fraction

import pytest

from flopcount.expr import ExprError, evaluate


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
        ("(" * 200 + "1" + ")" * 200, "nested too deeply"),
    ],
)
def test_rejects_with_a_clear_message(text, message):
    with pytest.raises(ExprError, match=None) as err:
        evaluate(text, {"alpha": 1})
    assert message in str(err.value)
