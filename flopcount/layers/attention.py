"""Products between activations: matmul, and multi-head attention as one layer.

Attention's MACs are its projections plus the two products between activations, QK^T
and AV, each computed in full as a dense kernel computes it: a causal mask hides the
scores of later keys but does not remove their products. (A kernel that skips the
masked half, such as FlashAttention's causal mode, does about half of QK^T and AV; the
README gives that formula.)
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

from ..errors import ShapeError, spec_error
from .base import Attr, Layer, Weight, bias_weight, fmt_shape, register
from .formula import Factor, formula
from .window import whole_map


@register("matmul")
class MatMul(Layer):
    doc = "Matrix product of two activations, batched over leading axes: (..., m, k) x (..., k, n) -> (..., m, n)."
    attrs = (
        Attr("transpose_a", "bool", False, "read the first input as (..., k, m)"),
        Attr("transpose_b", "bool", False, "read the second input as (..., n, k)"),
    )
    inputs = (2, 2)

    def operands(self, shapes):
        """((batch axes), m, k, n), checked."""
        a, b = shapes
        for name, s in (("first", a), ("second", b)):
            if len(s) < 2:
                raise ShapeError(
                    f"the {name} input of shape {fmt_shape(s)} is not a matrix (it needs two axes).", attribute="inputs"
                )
        m, k = (a[-1], a[-2]) if self.transpose_a else (a[-2], a[-1])
        k2, n = (b[-1], b[-2]) if self.transpose_b else (b[-2], b[-1])
        if k != k2 or a[:-2] != b[:-2]:
            what = "inner sizes" if k != k2 else "leading (batch) axes"
            raise ShapeError(
                f"cannot multiply {fmt_shape(a)}{' transposed' if self.transpose_a else ''} by "
                f"{fmt_shape(b)}{' transposed' if self.transpose_b else ''}: the {what} differ.",
                attribute="inputs",
            )
        return a[:-2], m, k, n

    def output_shape(self, shapes):
        batch, m, _, n = self.operands(shapes)
        return (*batch, m, n)

    def macs(self, shapes, out):
        # (..., m, k) x (..., k, n): every output element sums k products
        batch, m, k, n = self.operands(shapes)
        return prod(batch) * m * k * n

    def macs_formula(self, shapes, out):
        batch, m, k, n = self.operands(shapes)
        return formula(
            [*(Factor(f"B{i + 1}", b) for i, b in enumerate(batch)), Factor("m", m), Factor("k", k), Factor("n", n)]
        )

    def forward(self, xs, w, k):
        return k.matmul(xs[0], xs[1], self.transpose_a, self.transpose_b)


class Sizes(NamedTuple):
    """One attention layer's sizes: queries (lq, d), new keys and values (lk, d_kv), head width, output width."""

    lq: int
    d: int
    lk: int
    d_kv: int
    dh: int
    units: int


@register("attention")
class Attention(Layer):
    doc = (
        "Multi-head scaled dot-product attention with its projections, on (L, D) sequences: self attention "
        "on one input, cross attention on two (queries from the first, keys and values from the second)."
    )
    attrs = (
        Attr("heads", "size", doc="query heads"),
        Attr(
            "kv_heads",
            "size",
            None,
            "key/value heads (default: heads); fewer is grouped-query attention, 1 multi-query",
        ),
        Attr("head_dim", "size", None, "width of each head (default: the query input's width / heads)"),
        Attr("units", "size", None, "output width (default: the query input's width)"),
        Attr("bias", "bool", True, "biases on the query, key, value and output projections"),
        Attr("causal", "bool", False, "each query sees only the keys at or before its own position"),
        Attr("cache", "count", 0, "earlier positions whose keys and values are held in a cache (a decode step)"),
        Attr("rotary", "bool", False, "rotary position embedding (RoPE) on queries and keys"),
        Attr("rotary_base", "number", 10000, "base of the rotary frequencies"),
    )
    inputs = (1, 2)

    def check(self):
        if self.kv_heads is None:
            self.kv_heads = self.heads
        if self.heads % self.kv_heads:
            raise spec_error(
                f"key/value heads must divide the heads ({self.heads}).", attribute="kv_heads", received=self.kv_heads
            )
        if self.rotary_base <= 0:
            raise spec_error("must be positive.", attribute="rotary_base", received=float(self.rotary_base))

    def sizes(self, shapes) -> Sizes:
        """The sizes, checked; lk are the positions projected to keys here (the cache holds the others)."""
        for name, s in zip(("query", "key/value"), shapes):
            if len(s) != 2:
                raise ShapeError(
                    f"attention needs (L, D) sequences, but its {name} input has shape {fmt_shape(s)}; "
                    "reshape it first (an image (H, W, C) to (H x W, C)).",
                    attribute="inputs",
                )
        (lq, d), (lk, d_kv) = shapes[0], shapes[-1]
        if len(shapes) == 2 and (self.causal or self.cache):
            raise spec_error(
                "cross attention reads all of its second input; causal and cache apply to self attention.",
                attribute="causal" if self.causal else "cache",
                received=True if self.causal else self.cache,
            )
        head_dim = self.head_dim
        if head_dim is None:
            if d % self.heads:
                raise ShapeError(
                    f"{self.heads} heads do not divide the width {d}; give head_dim or change heads.",
                    attribute="heads",
                )
            head_dim = d // self.heads
        if self.rotary and head_dim % 2:
            raise ShapeError(
                f"rotary embedding turns pairs of features, but head_dim is odd ({head_dim}).", attribute="rotary"
            )
        return Sizes(lq, d, lk, d_kv, head_dim, self.units or d)

    def output_shape(self, shapes):
        s = self.sizes(shapes)
        return (s.lq, s.units)

    def weights(self, shapes):
        s = self.sizes(shapes)
        q, kv = self.heads * s.dh, 2 * self.kv_heads * s.dh
        if len(shapes) == 1:
            w = {"qkv_kernel": Weight((s.d, q + kv))}
            if self.bias:
                w["qkv_bias"] = bias_weight(q + kv)
        else:
            w = {"q_kernel": Weight((s.d, q)), "kv_kernel": Weight((s.d_kv, kv))}
            if self.bias:
                w["q_bias"], w["kv_bias"] = bias_weight(q), bias_weight(kv)
        w["out_kernel"] = Weight((q, s.units))
        if self.bias:
            w["out_bias"] = bias_weight(s.units)
        return w

    def macs(self, shapes, out):
        # queries (Lq, D) x (D, heads x dh); keys and values (Lk, D_kv) x (D_kv, 2 x kv_heads x dh);
        # per head QK^T (Lq, dh) x (dh, cache + Lk) and AV (Lq, cache + Lk) x (cache + Lk, dh);
        # output (Lq, heads x dh) x (heads x dh, units)
        s = self.sizes(shapes)
        q = s.lq * s.d * self.heads * s.dh
        kv = s.lk * s.d_kv * 2 * self.kv_heads * s.dh
        output = s.lq * self.heads * s.dh * s.units
        return q + kv + 2 * self.heads * s.lq * (self.cache + s.lk) * s.dh + output

    def macs_formula(self, shapes, out):
        s = self.sizes(shapes)
        lq, lk, dh, h = Factor("L_q", s.lq), Factor("L_k", s.lk), Factor("d_h", s.dh), Factor("heads", self.heads)
        two = Factor("2", 2)
        return formula(
            [lq, Factor("D", s.d), h, dh],
            [two, lk, Factor("D_kv", s.d_kv), Factor("kv_heads", self.kv_heads), dh],
            [two, h, lq, Factor("cache", self.cache), dh] if self.cache else [],
            [two, h, lq, lk, dh],
            [lq, h, dh, Factor("units", s.units)],
        )

    def other_ops_formula(self, shapes, out):
        s = self.sizes(shapes)
        lq, lk, dh, h, kv = (
            Factor("L_q", s.lq),
            Factor("L_k", s.lk),
            Factor("d_h", s.dh),
            Factor("heads", self.heads),
            Factor("kv_heads", self.kv_heads),
        )
        four, two, three = Factor("4", 4), Factor("2", 2), Factor("3", 3)
        terms = [[four, h, lq, Factor("cache", self.cache)] if self.cache else [], [four, h, lq, lk]]
        if self.bias:
            terms += [[lq, h, dh], [two, lk, kv, dh], [lq, Factor("units", s.units)]]
        if self.rotary:
            terms += [[three, lq, h, dh], [three, lk, kv, dh]]
        return formula(*terms)

    def other_ops(self, shapes, out):
        # biases: one add per projected element; scores: a scaling by 1 / sqrt(dh) and softmax's 3;
        # rotary: two multiplications and an add per rotated query and key element
        s = self.sizes(shapes)
        q, k = s.lq * self.heads * s.dh, s.lk * self.kv_heads * s.dh
        ops = 4 * self.heads * s.lq * (self.cache + s.lk)
        if self.bias:
            ops += q + 2 * k + s.lq * s.units
        if self.rotary:
            ops += 3 * (q + k)
        return ops

    def scratch(self, shapes, out, batch, k):
        # the kernel's temporaries: projections, cached and new keys and values, the scores and
        # their softmax, the heads' mixed values
        s = self.sizes(shapes)
        keys = self.cache + s.lk
        elements = 2 * s.lq * self.heads * s.dh + 2 * s.lk * self.kv_heads * s.dh + 2 * keys * self.kv_heads * s.dh
        elements += 2 * self.heads * s.lq * keys
        return {"attention": k.ITEMSIZE * batch * elements}

    def cache_elements(self, shapes):
        # with a cache, keys and values of the earlier positions and of the Lk new ones:
        # 2 x (cache + Lk) x kv_heads x dh
        if not self.cache:
            return 0
        s = self.sizes(shapes)
        return 2 * (self.cache + s.lk) * self.kv_heads * s.dh

    def window(self, shapes):
        # self attention: every query reads every key, so the field is the whole sequence (causal
        # or not: the last query sees all); cross attention reads positions of another sequence
        return whole_map(shapes[0]) if len(shapes) == 1 else None

    def forward(self, xs, w, k):
        dh = self.sizes([x.shape[1:] for x in xs]).dh
        memory = xs[1] if len(xs) == 2 else None
        cache = k.cache_values(xs[0].shape[0], self.cache, self.kv_heads, dh) if self.cache else None
        base = float(self.rotary_base) if self.rotary else None
        return k.attention(xs[0], memory, w, self.heads, self.kv_heads, dh, self.causal, cache, base)
