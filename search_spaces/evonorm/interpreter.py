"""Compile once, train many: a JAX interpreter for EvoNorm layer programs.

A layer program is *data*, so one compiled network trains every candidate layer:

* `encode` turns programs into padded integer arrays (`EncodedLayers`: op code and argument
  registers per statement, and the register of the output);
* `init_layer` gives a layer's trainable parameters and its state;
* `apply` runs one encoded layer on an NHWC tensor: `lax.scan` over the (padded) statements,
  `lax.switch` on each op code, over a register file of NHWC tensors. The statement count is
  static, so the layer is differentiable (twice: the stability check needs Hessian-vector
  products) and one compiled body serves every program.

Registers: 0 ``x``, 1 ``zero``, 2 ``v0``, 3 ``v1`` (per-channel parameters broadcast to NHWC),
then statement i writes register 4 + i. Padding statements copy register 0 and are never read.

**Batch statistics and the training flag.** Every statement owns one row of the layer state:
``moving_mean[i]`` and ``moving_var[i]`` (per channel; only batch aggregates use theirs). With
``training=True`` a ``batch_mean`` / ``batch_var`` / ``batch_std`` statement uses the statistics
of its argument over this batch (N, H, W) and the new state holds the updated moving averages,
``moving = 0.9 * moving + 0.1 * batch_statistic`` (mean for batch_mean; the biased variance
for batch_var and batch_std). With ``training=False`` it uses the moving averages instead
(batch_std: ``sqrt(moving_var + 1e-5)``), so its output for a sample does not depend on the
rest of the batch, and the state is returned unchanged. Moving averages start at mean 0,
variance 1. Instance and group aggregates always use the statistics of the input itself.

A batch of programs: ``jax.lax.map(lambda p: apply(p, ...), encoded)`` keeps each op code a
scalar, so the switch runs only the op a statement names (best on a CPU); ``vmap`` over
programs turns the switch into a select that runs every op, but as one wide computation, which
is what a GPU wants (``program_batching``, `automl.batching.resolve_program_batching`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from automl.ir import Program
from search_spaces.evonorm.ops import (
    BATCH_AGGREGATES,
    DEFAULT_GROUPS,
    EPS,
    EVONORM_TABLE,
    TEXT_OPS,
    jax_functions,
)

INPUTS = ("x", "zero", "v0", "v1")
OUTPUT = "y"
MAX_NODES = 14  # statements per layer (not counting the 4 inputs)
MOVING_AVERAGE_DECAY = 0.9
OPCODES = {name: code for code, name in enumerate(TEXT_OPS)}
PAD_OPCODE = len(TEXT_OPS)  # a padding statement: copies register 0
PADDING_LENGTH = -1  # `lengths` of a padding program (fills a compiled batch; never trained)


def is_padding(encoded_program: EncodedLayers) -> Any:
    """Whether one encoded program is a padding row (traced boolean scalar inside `lax.map`)."""
    return encoded_program.lengths == PADDING_LENGTH


class EncodingError(ValueError):
    """A program that the interpreter cannot run (wrong signature, too long, a literal)."""


class EncodedLayers(NamedTuple):
    """Layer programs as arrays (a pytree). From `encode`, every leaf has the program axis
    first (P programs); `layer(i)` (or `lax.map` over it) gives one program, what `apply`
    takes. L is the padded statement count (`max_nodes`).

    opcodes: (P, L) int32, op of each statement (`OPCODES`; padding: `PAD_OPCODE`)
    args:    (P, L, 2) int32, argument registers (unused: 0)
    output:  (P,) int32, register holding y
    lengths: (P,) int32, number of real statements (`PADDING_LENGTH` marks a padding row of a
             compiled batch, which trainers skip)
    """

    opcodes: Any
    args: Any
    output: Any
    lengths: Any

    @property
    def count(self) -> int:
        """Number of programs (of an `encode` result)."""
        return int(np.shape(self.opcodes)[0])

    def layer(self, index: int) -> EncodedLayers:
        """Program `index` alone (leaves without the program axis)."""
        return EncodedLayers(*(leaf[index] for leaf in self))


def encode(programs: Sequence[Program], max_nodes: int = MAX_NODES) -> EncodedLayers:
    """Encode programs with inputs (x, zero, v0, v1) and output y, each at most `max_nodes`
    statements, as `EncodedLayers` of P = len(programs), L = max_nodes."""
    count = len(programs)
    opcodes = np.full((count, max_nodes), PAD_OPCODE, np.int32)
    args = np.zeros((count, max_nodes, 2), np.int32)
    output = np.zeros(count, np.int32)
    lengths = np.zeros(count, np.int32)
    for p, program in enumerate(programs):
        if tuple(program.inputs) != INPUTS or program.parameters:
            raise EncodingError(f"layer inputs {program.inputs} are not {INPUTS}")
        if program.output_names != (OUTPUT,):
            raise EncodingError(f"layer outputs {program.output_names} are not ({OUTPUT!r},)")
        if len(program) > max_nodes:
            raise EncodingError(f"layer has {len(program)} statements, at most {max_nodes} "
                                f"fit")
        register = {name: i for i, name in enumerate(INPUTS)}
        for i, ins in enumerate(program.instructions):
            if ins.op not in OPCODES:
                raise EncodingError(f"op {ins.op!r} is not an EvoNorm op")
            opcodes[p, i] = OPCODES[ins.op]
            for k, arg in enumerate(ins.args):
                if not isinstance(arg, str):
                    raise EncodingError(f"statement {i + 1}: literal {arg!r} (EvoNorm layers "
                                        f"have no constants)")
                args[p, i, k] = register[arg]
            register[ins.register] = len(INPUTS) + i
        output[p] = register[program.outputs[0][1]]
        lengths[p] = len(program)
    return EncodedLayers(opcodes, args, output, lengths)


def init_layer(num_channels: int, max_nodes: int = MAX_NODES) -> tuple[dict, dict]:
    """(params, state) of one layer with C = `num_channels`, float32:

    params: ``v0`` (C,) zeros, ``v1`` (C,) ones, ``gamma`` (C,) ones, ``beta`` (C,) zeros;
    state:  ``moving_mean`` (max_nodes, C) zeros, ``moving_var`` (max_nodes, C) ones, one row
            per statement (used by batch aggregates; `max_nodes` must match the encoding).
    """
    import jax.numpy as jnp

    c = int(num_channels)
    params = {"v0": jnp.zeros(c, jnp.float32), "v1": jnp.ones(c, jnp.float32),
              "gamma": jnp.ones(c, jnp.float32), "beta": jnp.zeros(c, jnp.float32)}
    state = {"moving_mean": jnp.zeros((max_nodes, c), jnp.float32),
             "moving_var": jnp.ones((max_nodes, c), jnp.float32)}
    return params, state


def _branches(groups: int, training: Any) -> list:
    """One function per op code: (a, b, mean_row, var_row) -> (value, mean_row, var_row)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    functions = jax_functions(groups)
    static = isinstance(training, bool | np.bool_)
    decay = MOVING_AVERAGE_DECAY

    def plain(name: str):
        function = functions[name]
        unary = EVONORM_TABLE.get(name).arity == 1

        def branch(a, b, mean_row, var_row):
            return (function(a) if unary else function(a, b)), mean_row, var_row

        return branch

    def batch(statistic: str):
        def from_moments(mean, var):
            return {"mean": mean, "var": var, "std": jnp.sqrt(var + EPS)}[statistic]

        def branch(a, b, mean_row, var_row):
            moving_value = from_moments(mean_row, var_row).astype(a.dtype)
            if static and not training:
                return jnp.broadcast_to(moving_value, a.shape), mean_row, var_row
            mean = jnp.mean(a, axis=(0, 1, 2))
            var = jnp.mean(jnp.square(a - mean), axis=(0, 1, 2))
            batch_value = from_moments(mean, var)
            observed_mean = lax.stop_gradient(mean).astype(mean_row.dtype)
            observed_var = lax.stop_gradient(var).astype(var_row.dtype)
            if statistic == "mean":
                new_mean, new_var = decay * mean_row + (1 - decay) * observed_mean, var_row
            else:
                new_mean, new_var = mean_row, decay * var_row + (1 - decay) * observed_var
            if static:
                return jnp.broadcast_to(batch_value, a.shape), new_mean, new_var
            value = jnp.where(training, batch_value, moving_value)
            return (jnp.broadcast_to(value, a.shape), jnp.where(training, new_mean, mean_row),
                    jnp.where(training, new_var, var_row))

        return branch

    def pad(a, b, mean_row, var_row):
        return a, mean_row, var_row

    branches = []
    for name in TEXT_OPS:
        branches.append(batch(name.split("_")[1]) if name in BATCH_AGGREGATES else plain(name))
    branches.append(pad)
    # Rematerialized branches: differentiating a switch makes every branch emit the union of
    # all branches' residuals (zeros where another op ran); with each branch checkpointed the
    # residuals are just its operands, which made a training step ~2-4x faster on CPU.
    return [jax.checkpoint(branch) for branch in branches]


def apply(encoded_program: EncodedLayers, layer_params: dict, state: dict, x: Any,
          training: Any, *, groups: int = DEFAULT_GROUPS) -> tuple[Any, dict]:
    """Run one encoded layer: ``(gamma * y + beta, new_state)``.

    encoded_program: `EncodedLayers` of ONE program: opcodes (L,), args (L, 2), output ()
                     (may be traced: the compiled function serves every program);
    layer_params:    from `init_layer`: v0, v1, gamma, beta, each (C,);
    state:           from `init_layer`: moving_mean, moving_var, each (R, C) with R >= L
                     (statement i uses row i: programs encoded in a shorter length bucket
                     run with the state of `init_layer(C, max_nodes)`);
    x:               (N, H, W, C) float array; the result has its shape and dtype;
    training:        Python bool (or a traced boolean scalar): batch aggregates use batch
                     statistics and update the moving averages (True) or use the moving
                     averages (False); see the module docstring;
    groups:          the group aggregates' group limit (static; see `ops.group_count`).
    """
    import jax.numpy as jnp
    from jax import lax

    opcodes = jnp.asarray(encoded_program.opcodes)
    args = jnp.asarray(encoded_program.args)
    if opcodes.ndim != 1:
        raise ValueError(f"apply runs one layer: opcodes must be (L,), got {opcodes.shape} "
                         f"(use EncodedLayers.layer(i) or lax.map over the programs)")
    length = opcodes.shape[0]
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x must be NHWC, got shape {x.shape}")
    moving_mean, moving_var = state["moving_mean"], state["moving_var"]
    rows = moving_mean.shape[0]
    if moving_mean.shape != (rows, x.shape[-1]) or rows < length:
        raise ValueError(f"state rows {moving_mean.shape} do not cover {length} statements "
                         f"x {x.shape[-1]} channels (init_layer's max_nodes >= encode's)")
    # a program encoded shorter than the state (a length bucket) uses the first rows only
    unused_mean, unused_var = moving_mean[length:], moving_var[length:]
    moving_mean, moving_var = moving_mean[:length], moving_var[:length]
    if not isinstance(training, bool | np.bool_):
        training = jnp.asarray(training, bool)
    dtype = x.dtype

    def per_channel(name: str):
        return jnp.broadcast_to(jnp.asarray(layer_params[name], dtype), x.shape)

    inputs = jnp.stack([x, jnp.zeros_like(x), per_channel("v0"), per_channel("v1")])
    registers = jnp.concatenate([inputs, jnp.zeros((length, *x.shape), dtype)])
    branches = _branches(groups, training)

    def step(carry, i):
        registers, means, variances = carry
        a = lax.dynamic_index_in_dim(registers, args[i, 0], keepdims=False)
        b = lax.dynamic_index_in_dim(registers, args[i, 1], keepdims=False)
        value, mean_row, var_row = lax.switch(opcodes[i], branches, a, b, means[i],
                                              variances[i])
        registers = lax.dynamic_update_index_in_dim(registers, value.astype(dtype),
                                                    len(INPUTS) + i, 0)
        means = lax.dynamic_update_index_in_dim(means, mean_row, i, 0)
        variances = lax.dynamic_update_index_in_dim(variances, var_row, i, 0)
        return (registers, means, variances), None

    (registers, means, variances), _ = lax.scan(
        step, (registers, moving_mean, moving_var), jnp.arange(length))
    means = jnp.concatenate([means, unused_mean])
    variances = jnp.concatenate([variances, unused_var])
    y = lax.dynamic_index_in_dim(registers, jnp.asarray(encoded_program.output), keepdims=False)
    gamma = jnp.asarray(layer_params["gamma"], dtype)
    beta = jnp.asarray(layer_params["beta"], dtype)
    return gamma * y + beta, {"moving_mean": means, "moving_var": variances}


def unrolled_layer(program: Program, *, groups: int = DEFAULT_GROUPS,
                   max_nodes: int = MAX_NODES):
    """One program as its own code: a `models.Layer` whose ``apply`` ignores the (encoded)
    program it is given and runs `program`'s statements unrolled, each op called directly
    (no scan, no switch), with the interpreter's semantics and state layout. What evaluating a
    candidate as generated code costs: every program needs its own compilation. Used to
    measure the compile-once interpreter against (scripts/bench_evonorm.py)."""
    import jax.numpy as jnp

    from search_spaces.evonorm.models import LayerFunctions

    encode([program], max_nodes)  # the same checks as the interpreter's
    statements = [(OPCODES[ins.op], ins.register, ins.args) for ins in program.instructions]
    output = program.outputs[0][1]

    def apply_unrolled(_encoded: Any, layer_params: dict, state: dict, x: Any,
                       training: Any) -> tuple[Any, dict]:
        x = jnp.asarray(x)
        branches = _branches(groups, training)
        values = {"x": x, "zero": jnp.zeros_like(x),
                  "v0": jnp.broadcast_to(jnp.asarray(layer_params["v0"], x.dtype), x.shape),
                  "v1": jnp.broadcast_to(jnp.asarray(layer_params["v1"], x.dtype), x.shape)}
        means, variances = state["moving_mean"], state["moving_var"]
        for i, (opcode, register, args) in enumerate(statements):
            a = values[args[0]]
            b = values[args[1]] if len(args) > 1 else x  # unary ops ignore b
            value, mean_row, var_row = branches[opcode](a, b, means[i], variances[i])
            values[register] = value.astype(x.dtype)
            means, variances = means.at[i].set(mean_row), variances.at[i].set(var_row)
        gamma = jnp.asarray(layer_params["gamma"], x.dtype)
        beta = jnp.asarray(layer_params["beta"], x.dtype)
        return (gamma * values[output] + beta,
                {"moving_mean": means, "moving_var": variances})

    def init(num_channels: int) -> tuple[dict, dict]:
        return init_layer(num_channels, max_nodes)

    return LayerFunctions(init_layer=init, apply=apply_unrolled)
