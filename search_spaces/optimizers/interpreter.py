"""Compile once, evaluate many: a JAX interpreter for optimizer programs.

A fresh `jax.jit` of one candidate's training loop costs ~0.9 s here against ~0.13 s to run it,
so per-candidate compilation would waste most of a search. Instead a program is *data*:

* `encode` turns programs into padded integer arrays (op code and argument registers per
  statement) plus a table of literal constants;
* `interpret` runs one encoded program with `lax.fori_loop` over its statements and
  `lax.switch` on each op code, over a register file of tensor stacks (see `ops.py`);
* `make_trainer` compiles, once per task and batch size, a function that trains a whole batch
  of programs (`lax.map` over programs, `vmap` over the grid of learning rates and, when
  given, decoupled weight decays) and returns the validation loss and metric of each (program,
  grid point).

Only the op actually named by each statement runs (`lax.map` keeps the op code unbatched, so
the switch stays a switch rather than becoming a select over all 40 ops). That is right for a
CPU; on a GPU, where each switch and loop step is a kernel launch and a host round trip, the
trainer `vmap`s over programs instead (``batching="vmap"``): every op runs on every program,
as one wide computation per statement. On an H200 that took 64 mutants of AdamW from 2.1 to
20 candidates/s (scripts/results/).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from automl.batching import over_programs
from automl.ir import Program
from search_spaces.optimizers.ops import OPTIMIZER_OPS, OPTIMIZER_TABLE

INPUTS = ("w", "g", "m", "v", "lr", "t")
OUTPUTS = ("update", "m", "v")
OPCODES = {name: code for code, name in enumerate(OPTIMIZER_OPS)}
BATCH_SIZES = (1, 4, 16, 64)  # programs per compiled call; batches are padded up to one


@dataclass(frozen=True)
class EncodedPrograms:
    """A batch of programs as arrays. Registers: inputs, then constants, then statements."""

    opcodes: np.ndarray  # (P, L) int32
    args: np.ndarray  # (P, L, 3) int32 register indices (unused slots: 0)
    constants: np.ndarray  # (P, K) float32
    outputs: np.ndarray  # (P, 3) int32 registers of update, m, v
    lengths: np.ndarray  # (P,) int32 number of statements

    def __len__(self) -> int:
        return len(self.lengths)


class EncodingError(ValueError):
    pass


def encode(programs: Sequence[Program], max_statements: int, max_constants: int
           ) -> EncodedPrograms:
    count = len(programs)
    opcodes = np.zeros((count, max_statements), np.int32)
    args = np.zeros((count, max_statements, 3), np.int32)
    constants = np.zeros((count, max_constants), np.float32)
    outputs = np.zeros((count, 3), np.int32)
    lengths = np.zeros(count, np.int32)
    first_statement = len(INPUTS) + max_constants
    for p, program in enumerate(programs):
        if tuple(program.inputs) != INPUTS:
            raise EncodingError(f"program inputs {program.inputs} are not {INPUTS}")
        if len(program) > max_statements:
            raise EncodingError(f"program has {len(program)} statements, at most "
                                f"{max_statements} fit")
        register = {name: i for i, name in enumerate(INPUTS)}
        literal_slot: dict[float, int] = {}
        for i, ins in enumerate(program.instructions):
            opcodes[p, i] = OPCODES[ins.op]
            for k, arg in enumerate(ins.args):
                if isinstance(arg, float):
                    if arg not in literal_slot:
                        if len(literal_slot) == max_constants:
                            raise EncodingError(f"program has more than {max_constants} "
                                                f"distinct constants")
                        literal_slot[arg] = len(INPUTS) + len(literal_slot)
                        constants[p, len(literal_slot) - 1] = arg
                    args[p, i, k] = literal_slot[arg]
                else:
                    args[p, i, k] = register[arg]
            register[ins.register] = first_statement + i
        outputs[p] = [register[dict(program.outputs)[name]] for name in OUTPUTS]
        lengths[p] = len(program)
    return EncodedPrograms(opcodes, args, constants, outputs, lengths)


def pad(encoded: EncodedPrograms, size: int) -> EncodedPrograms:
    """Pad a batch to `size` programs with empty ones (update = w * 0: never diverges)."""
    extra = size - len(encoded)
    if extra <= 0:
        return encoded

    def grow(array: np.ndarray) -> np.ndarray:
        return np.concatenate([array, np.zeros((extra, *array.shape[1:]), array.dtype)])

    outputs = grow(encoded.outputs)
    outputs[len(encoded):] = [len(INPUTS), 2, 3]  # update = constant slot 0 (= 0), m, v kept
    return EncodedPrograms(grow(encoded.opcodes), grow(encoded.args), grow(encoded.constants),
                           outputs, grow(encoded.lengths))


def segment_reductions(segment_ids, num_segments: int) -> dict[str, Callable]:
    """The per-tensor reductions on a flat parameter vector (tensor i = segment i). Same
    meaning as the row-wise numpy versions in `ops.py`, without padding every tensor to the
    largest one."""
    import jax
    import jax.numpy as jnp

    def per_tensor_sum(x):
        return jax.ops.segment_sum(x, segment_ids, num_segments)[segment_ids]

    def norm(x):
        return jnp.sqrt(per_tensor_sum(x * x))

    def global_norm(x):
        return jnp.broadcast_to(jnp.sqrt(jnp.sum(x * x)), x.shape)

    def dot(x, y):
        return per_tensor_sum(x * y)

    return {
        "norm": norm,
        "global_norm": global_norm,
        "dot": dot,
        "cosine_sim": lambda x, y: dot(x, y) / (norm(x) * norm(y) + 1e-8),
        "clip_by_global_norm": lambda x, c: x * jnp.minimum(
            1.0, jnp.abs(c) / (global_norm(x) + 1e-8)),
    }


def _branches(segment_ids, num_segments: int) -> tuple[Callable, ...]:
    overrides = segment_reductions(segment_ids, num_segments)

    def branch(name: str) -> Callable:
        op = OPTIMIZER_TABLE.get(name)
        function = overrides.get(name, op.jax_impl)
        return lambda a, b, c: function(*(a, b, c)[: op.arity])

    return tuple(branch(name) for name in OPTIMIZER_OPS)


def interpret(opcodes, args, constants, outputs, length, inputs: Sequence, segment_ids,
              num_segments: int, every_statement: bool = False):
    """Run one encoded program. `inputs` are w, g, m, v (flat parameter vectors, tensor i at
    the positions where `segment_ids == i`) and lr, t (scalars). `every_statement`: loop over
    all the padded statements, not `length` of them (for a vmapped batch, whose lengths
    differ: statements past a program's length write registers that nothing reads). A loop,
    not straight-line code: unrolled, 30 statements x 45 ops took minutes to compile."""
    import jax.numpy as jnp
    from jax import lax

    opcodes, args, constants = jnp.asarray(opcodes), jnp.asarray(args), jnp.asarray(constants)
    w = inputs[0]
    shape = w.shape
    scalars = [jnp.broadcast_to(jnp.asarray(x, w.dtype), shape) for x in inputs[4:]]
    constant_stack = jnp.broadcast_to(constants[:, None].astype(w.dtype),
                                      (constants.shape[0], *shape))
    statements = jnp.zeros((opcodes.shape[0], *shape), w.dtype)
    registers = jnp.concatenate([jnp.stack([*inputs[:4], *scalars]), constant_stack,
                                 statements])
    first_statement = len(INPUTS) + constants.shape[0]
    branches = _branches(jnp.asarray(segment_ids), num_segments)

    def step(i, registers):
        a, b, c = (lax.dynamic_index_in_dim(registers, args[i, k], keepdims=False)
                   for k in range(3))
        value = lax.switch(opcodes[i], branches, a, b, c)
        return lax.dynamic_update_index_in_dim(registers, value, first_statement + i, 0)

    registers = lax.fori_loop(0, opcodes.shape[0] if every_statement else length, step,
                              registers)
    outputs = jnp.asarray(outputs)
    return tuple(lax.dynamic_index_in_dim(registers, outputs[k], keepdims=False)
                 for k in range(3))


@dataclass(frozen=True)
class TensorLayout:
    """How a model's parameter list maps onto one flat vector (tensor i = segment i)."""

    shapes: tuple[tuple[int, ...], ...]

    @property
    def sizes(self) -> list[int]:
        return [int(np.prod(shape)) for shape in self.shapes]

    @property
    def num_segments(self) -> int:
        return len(self.shapes)

    def segment_ids(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.shapes), dtype=np.int32), self.sizes)

    def pack(self, params):
        import jax.numpy as jnp

        return jnp.concatenate([p.reshape(-1) for p in params])

    def unpack(self, flat):
        offsets = np.cumsum([0, *self.sizes])
        return [flat[offsets[i]:offsets[i + 1]].reshape(shape)
                for i, shape in enumerate(self.shapes)]


def _setup(task, seed: int):
    """Initial flat parameters, their layout, the gradient of the task's loss on a batch
    (`gradient(flat, x, y)`) and the run's key (``PRNGKey(seed)``: its init and, through
    `Task.batch`, its minibatches)."""
    import jax

    key = jax.random.PRNGKey(seed)
    params0 = task.init_params(key)
    layout = TensorLayout(tuple(tuple(p.shape) for p in params0))
    gradient = jax.grad(lambda flat, x, y: task.loss(layout.unpack(flat), x, y))
    return layout.pack(params0), layout, gradient, key


LR_SCHEDULES = ("constant", "cosine", "warmup_cosine")
WARMUP_FRACTION = 0.05  # of a task's steps, under "warmup_cosine"


def warmup_steps(steps: int) -> int:
    """Steps of linear warmup under "warmup_cosine": 5% of the task's, at least one."""
    return max(1, round(WARMUP_FRACTION * steps))


def scheduled_lr(lr, t, steps: int, schedule: str):
    """The learning rate at step `t` (1-based) of `steps`: `lr` throughout ("constant"),
    cosine decay to zero ("cosine": optax.cosine_decay_schedule(lr, steps), which starts at
    step count 0 = our t 1), or a linear warmup from 0 over `warmup_steps(steps)` then cosine
    decay to zero ("warmup_cosine": optax.warmup_cosine_decay_schedule(0, lr, warmup, steps))."""
    import jax.numpy as jnp

    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + jnp.cos(jnp.pi * (t - 1.0) / steps))
    if schedule == "warmup_cosine":
        warmup = warmup_steps(steps)
        count = t - 1.0
        rising = lr * count / warmup
        fraction = jnp.clip((count - warmup) / max(steps - warmup, 1), 0.0, 1.0)
        return jnp.where(count < warmup, rising,
                         lr * 0.5 * (1.0 + jnp.cos(jnp.pi * fraction)))
    raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")


def clip_by_global_norm(g, max_norm):
    """`g` scaled to global norm at most `max_norm` (optax.clip_by_global_norm)."""
    import jax.numpy as jnp

    norm = jnp.sqrt(jnp.sum(g * g))
    return jnp.where(norm < max_norm, g, g * (max_norm / jnp.maximum(norm, 1e-30)))


def _train(task, w0, layout, gradient, key, update_rule, lr, weight_decay=None,
           lr_schedule: str = "constant", gradient_clip: float | None = None):
    """Train from `w0` with `update_rule(w, g, m, v, lr_t, t) -> (update, m, v)`, plus
    decoupled weight decay `lr_t * weight_decay * w` when one is given (as optax.adamw applies
    it), where lr_t is `lr` under `lr_schedule` at step t; `g` is the gradient on step t's batch
    (`task.batch(key, t)`), clipped to global norm `gradient_clip` when one is given. Return
    the validation loss and metric (non-finite after divergence)."""
    import jax.numpy as jnp
    from jax import lax

    def step(state, t):
        w, m, v = state
        t_float = t.astype(jnp.float32)
        lr_t = scheduled_lr(lr, t_float, task.steps, lr_schedule)
        g = gradient(w, *task.batch(key, t))
        if gradient_clip is not None:
            g = clip_by_global_norm(g, gradient_clip)
        update, m, v = update_rule(w, g, m, v, lr_t, t_float)
        if weight_decay is not None:
            update = update + (lr_t * weight_decay) * w
        return (w - update, m, v), None

    zeros = jnp.zeros_like(w0)
    (w, _, _), _ = lax.scan(step, (w0, zeros, zeros),
                            jnp.arange(1, task.steps + 1, dtype=jnp.int32))
    params = layout.unpack(w)
    return task.validation_loss(params), task.metric(params, task.valid_x, task.valid_y)


def hyperparameter_grid(learning_rates: Sequence[float], weight_decays: Sequence[float] | None
                        ) -> list[tuple[float, float | None]]:
    """The (learning rate, decoupled weight decay) pairs a program is trained with, in the
    order of a trainer's output columns: rate-major. No decays: (rate, None), nothing added."""
    return [(lr, wd) for lr in learning_rates for wd in (weight_decays or [None])]


def make_trainer(task, batch_size: int, max_statements: int, max_constants: int,
                 learning_rates: Sequence[float], seed: int = 0, batching: str = "map",
                 weight_decays: Sequence[float] | None = None, lr_schedule: str = "constant",
                 gradient_clip: float | None = None):
    """Compile a function: EncodedPrograms of `batch_size` -> (validation losses, metrics),
    each of shape (batch_size, grid size) over `hyperparameter_grid(learning_rates,
    weight_decays)`. Non-finite values mean divergence.
    `batching`: "map" (programs one after another, each op switch running one op) or
    "vmap" (all programs at once, every padded statement run; see
    `automl.batching.resolve_program_batching`)."""
    if batching not in ("map", "vmap"):
        raise ValueError(f"batching must be 'map' or 'vmap', got {batching!r}")
    every_statement = batching == "vmap"
    import jax
    import jax.numpy as jnp

    w0, layout, gradient, key = _setup(task, seed)
    segments = layout.segment_ids()
    grid = hyperparameter_grid(learning_rates, weight_decays)
    lrs = jnp.asarray([lr for lr, _ in grid], jnp.float32)
    decays = None if weight_decays is None else jnp.asarray([wd for _, wd in grid], jnp.float32)

    def train_one(program, lr, weight_decay, w0, key):
        opcodes, args, constants, outputs, length = program

        def update_rule(w, g, m, v, lr, t):
            return interpret(opcodes, args, constants, outputs, length, (w, g, m, v, lr, t),
                             segments, layout.num_segments, every_statement)

        return _train(task, w0, layout, gradient, key, update_rule, lr, weight_decay,
                      lr_schedule, gradient_clip)

    def train_program(program, w0, key):
        return jax.vmap(train_one, in_axes=(None, 0, None if decays is None else 0, None, None))(
            program, lrs, decays, w0, key)

    @jax.jit
    def train_batch(opcodes, args, constants, outputs, lengths, w0, key):
        return over_programs(lambda program: train_program(program, w0, key),
                             (opcodes, args, constants, outputs, lengths), batching)

    def run(encoded: EncodedPrograms, seed: int | None = None):
        """Train `encoded`; `seed`: another init seed than the trainer's (its initial
        parameters and minibatches; the same compiled function)."""
        if len(encoded) != batch_size:
            raise ValueError(f"trainer compiled for {batch_size} programs, got {len(encoded)}")
        if encoded.opcodes.shape[1] != max_statements or \
                encoded.constants.shape[1] != max_constants:
            raise ValueError("encoded programs do not match the trainer's sizes")
        start, run_key = (w0, key) if seed is None else _setup(task, seed)[::3]
        losses, metrics = train_batch(encoded.opcodes, encoded.args, encoded.constants,
                                      encoded.outputs, encoded.lengths, start, run_key)
        return np.asarray(losses), np.asarray(metrics)

    return run


def unrolled_update(program: Program):
    """The program traced statement by statement (what per-candidate compilation means):
    a jax function of (w, g, m, v, lr, t, segment_ids, num_segments) -> (update, m, v)."""
    import jax.numpy as jnp

    def update(w, g, m, v, lr, t, segment_ids, num_segments):
        overrides = segment_reductions(segment_ids, num_segments)
        env = {"w": w, "g": g, "m": m, "v": v,
               "lr": jnp.broadcast_to(lr, w.shape), "t": jnp.broadcast_to(t, w.shape)}
        for ins in program.instructions:
            args = [env[a] if isinstance(a, str) else jnp.broadcast_to(
                jnp.asarray(a, w.dtype), w.shape) for a in ins.args]
            env[ins.register] = overrides.get(ins.op, OPTIMIZER_TABLE.get(ins.op).jax_impl)(*args)
        outputs = dict(program.outputs)
        return tuple(env[outputs[name]] for name in OUTPUTS)

    return update


def make_unrolled_trainer(task, program: Program, learning_rates: Sequence[float],
                          seed: int = 0, lr_schedule: str = "constant",
                          gradient_clip: float | None = None):
    """Per-candidate compilation, the baseline the interpreter is measured against: a fresh
    `jax.jit` of the training loop with this one program inlined. Returns a function of no
    arguments -> (validation losses, metrics) over the learning rates."""
    import jax
    import jax.numpy as jnp

    w0, layout, gradient, key = _setup(task, seed)
    segments = layout.segment_ids()
    rule = unrolled_update(program)

    def update_rule(w, g, m, v, lr, t):
        return rule(w, g, m, v, lr, t, segments, layout.num_segments)

    compiled = jax.jit(jax.vmap(lambda lr: _train(task, w0, layout, gradient, key, update_rule,
                                                  lr, lr_schedule=lr_schedule,
                                                  gradient_clip=gradient_clip)))
    lrs = jnp.asarray(learning_rates, jnp.float32)
    return lambda: tuple(np.asarray(x) for x in compiled(lrs))
