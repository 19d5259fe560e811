"""The AutoNumerics op table: the core's arithmetic (add, sub, mul, div, neg, fma, sqrt, max,
min; the paper's set is add, mul, fma, with div and sub by default here), nothing of its own.
Named, and passed everywhere a program of this space is run, so that nothing computes with a
table by accident."""

from automl.ops import CORE_OPS

TABLE = CORE_OPS
