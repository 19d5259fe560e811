"""Export an EvoNorm layer as a standalone module: ``init``, ``apply`` and ``update_moving``.

The module imports numpy (flavor "python") or jax (flavor "jax") and nothing of this platform,
so a discovered layer can be copied into any project. Its contract, for NHWC input::

    params = init(num_channels)          # v0 (0), v1 (1), gamma (1), beta (0), moving stats
    y = apply(params, x, training)       # gamma * layer(x) + beta
    params = update_moving(params, x)    # moving statistics updated from batch x

The layer is straight-line code, one assignment per statement in the program's order, each the
op's export template in the space's op table (`ops.py`), calling small functions copied into the
module (the safe ops of `ops.py`, the aggregates with the space's group limit inlined), so the
numpy module computes what `run_layer_numpy` computes. Templates read their arguments as
``{0}, {1}`` and, for a batch aggregate, the key of the moving statistic the statement owns as
``{mean_key}`` (a moving mean) or ``{var_key}`` (a moving variance).
Batch aggregates follow the interpreter (`interpreter.py`): each ``batch_*`` statement owns a
moving statistic in ``params`` (``s<i>_moving_mean`` for batch_mean, ``s<i>_moving_var`` for
batch_var and batch_std, i its 1-based position), used when ``training`` is False; with
``training`` True the batch's statistics are used, and ``update_moving`` applies
``moving = momentum * moving + (1 - momentum) * batch_statistic``, which ``apply`` does not.
"""

from __future__ import annotations

from automl.ir import Program
from automl.ops import OpTable
from search_spaces.evonorm.interpreter import INPUTS, MOVING_AVERAGE_DECAY, OUTPUT
from search_spaces.evonorm.ops import EPS, EXP_CLIP

# flavor -> (imports, dtype expression for x, what the docstring says)
_FLAVORS = {
    "python": ("import numpy as xp", "xp.float64", "numpy only; computes in float64"),
    # `float` is jax's default float: float64 under jax_enable_x64, float32 otherwise
    "jax": ("import jax\nimport jax.numpy as xp", "float",
            "jax only; float64 under jax_enable_x64, else float32; jit-able with `training` "
            "static"),
}
# template field -> (the moving statistic it names, its initial value)
_MOVING = {"mean_key": ("mean", "zeros"), "var_key": ("var", "ones")}

_HELPERS = '''
EPS = {eps!r}
EXP_CLIP = {exp_clip!r}
GROUPS = {groups!r}  # group aggregates: at most this many groups (see group_count)
MIN_CHANNELS_PER_GROUP = 4


def clamped_div(x, y):
    """x / y with |y| clamped to at least EPS keeping its sign (0 counts as positive)."""
    return x / xp.where(y >= 0, xp.maximum(y, EPS), xp.minimum(y, -EPS))


def clipped_exp(x):
    return xp.exp(xp.minimum(x, EXP_CLIP))


def signed_log(x):
    return xp.sign(x) * xp.log1p(xp.abs(x))


def signed_sqrt(x):
    """sign(x) * sqrt(|x|), with a finite (zero) gradient at 0."""
    magnitude = xp.abs(x)
    positive = magnitude > 0
    root = xp.sqrt(xp.where(positive, magnitude, 1.0))
    return xp.sign(x) * xp.where(positive, root, 0.0)


def group_count(channels):
    """The largest divisor of C at most min(GROUPS, C // 4) (at least one group)."""
    limit = max(1, min(GROUPS, channels // MIN_CHANNELS_PER_GROUP))
    return next(g for g in range(limit, 0, -1) if channels % g == 0)


def _moments(x, scope):
    """(view, mean, var) over (H, W) ("instance") or (H, W, C/G) ("group"), keeping axes."""
    if scope == "instance":
        view, axes = x, (1, 2)
    else:
        n, h, w, c = x.shape
        g = group_count(c)
        view, axes = x.reshape(n, h, w, g, c // g), (1, 2, 4)
    mean = xp.mean(view, axis=axes, keepdims=True)
    var = xp.mean(xp.square(view - mean), axis=axes, keepdims=True)
    return view, mean, var


def _aggregate(x, scope, statistic):
    view, mean, var = _moments(x, scope)
    value = {{"mean": mean, "var": var}}.get(statistic)
    if value is None:
        value = xp.sqrt(var + EPS)
    return xp.broadcast_to(value, view.shape).reshape(x.shape)


def instance_mean(x):
    return _aggregate(x, "instance", "mean")


def instance_var(x):
    return _aggregate(x, "instance", "var")


def instance_std(x):
    return _aggregate(x, "instance", "std")


def group_mean(x):
    return _aggregate(x, "group", "mean")


def group_var(x):
    return _aggregate(x, "group", "var")


def group_std(x):
    return _aggregate(x, "group", "std")


def _batch(x, statistic, moving, training, observed, key):
    """A batch aggregate: the statistic of x over (N, H, W) when training (recorded in
    `observed` under `key` for update_moving: the mean, or the biased variance), else from
    the moving statistic (mean, or variance)."""
    if training:
        mean = xp.mean(x, axis=(0, 1, 2))
        var = xp.mean(xp.square(x - mean), axis=(0, 1, 2))
        if observed is not None:
            observed[key] = mean if statistic == "mean" else var
        value = mean if statistic == "mean" else var
    else:
        value = xp.asarray(moving, dtype=x.dtype)
    if statistic == "std":
        value = xp.sqrt(value + EPS)
    return xp.broadcast_to(value, x.shape)
'''

_API = '''

def init(num_channels):
    """Initial params for C = num_channels: v0 (zeros), v1 (ones), gamma (ones), beta (zeros),
    and the moving statistic of each batch aggregate (means zeros, variances ones)."""
    c = int(num_channels)
    return {{
{init}
    }}


def apply(params, x, training):
    """gamma * layer(x) + beta for NHWC x. training (a Python bool): batch aggregates use the
    batch's statistics (True) or the moving ones in params (False). apply never updates the
    moving statistics: call update_moving(params, x) on training batches for that."""
    return params["gamma"] * _layer(params, x, training, None) + params["beta"]


def update_moving(params, x, momentum={momentum!r}):
    """params with each moving statistic updated from batch x (training mode):
    moving = momentum * moving + (1 - momentum) * batch statistic of the aggregate's input."""
    observed = {{}}
    _layer(params, x, True, observed)
    updated = dict(params)
    for key, value in observed.items():
        updated[key] = momentum * params[key] + (1 - momentum) * {observed}
    return updated
'''


def export_module(program: Program, text: str, table: OpTable, groups: int,
                  flavor: str = "jax") -> str:
    """Source of a standalone module with ``init``, ``apply`` and ``update_moving`` for the
    layer `program` (`flavor`: "python" for numpy, or "jax"): `text` is its DSL form (for the
    docstring), `table` the space's op table, `groups` the group limit of group aggregates."""
    if flavor not in _FLAVORS:
        raise ValueError(f"unknown export format {flavor!r}; allowed: {', '.join(_FLAVORS)}")
    if tuple(program.inputs) != INPUTS or program.output_names != (OUTPUT,):
        raise ValueError(f"not an EvoNorm layer: inputs {program.inputs}, outputs "
                         f"{program.output_names}")
    imports, dtype, description = _FLAVORS[flavor]
    names = {name: name for name in INPUTS}
    body = [f"    x = xp.asarray(x, dtype={dtype})", "    zero = xp.zeros_like(x)",
            *(f"    {v} = xp.ones_like(x) * xp.asarray(params[{v!r}], dtype=x.dtype)"
              for v in ("v0", "v1"))]
    init = ['        "v0": xp.zeros(c),', '        "v1": xp.ones(c),',
            '        "gamma": xp.ones(c),', '        "beta": xp.zeros(c),']
    moving = []
    for position, ins in enumerate(program.instructions, start=1):
        variable = f"s{position}"
        args = []
        for arg in ins.args:
            if not isinstance(arg, str):
                raise ValueError(f"statement {position}: literal {arg!r} (EvoNorm layers have "
                                 f"no constants)")
            args.append(names[arg])
        if ins.op not in table or not table.get(ins.op).template(flavor):
            raise ValueError(f"op {ins.op!r} is not an EvoNorm op; cannot export it")
        op = table.get(ins.op)
        keys = {}
        for field in sorted(op.placeholders(flavor)):
            if field not in _MOVING:
                raise ValueError(f"op {ins.op!r}: unknown template field {{{field}}}")
            kind, initial = _MOVING[field]
            keys[field] = f"{variable}_moving_{kind}"
            moving.append(f"    {keys[field]}: statement {position} ({ins.register} = "
                          f"{ins.op}(...))")
            init.append(f"        {keys[field]!r}: xp.{initial}(c),")
        names[ins.register] = variable
        body.append(f"    {variable} = {op.code(flavor, args, **keys)}")
    output = names[program.outputs[0][1]]
    body.append(f"    return {output}")
    header = ["EvoNorm layer (normalization-activation) for NHWC tensors.", "",
              "Exported by automl-evolution from the evonorm search space.",
              f"Standalone ({description}).", "",
              "    params = init(num_channels)",
              "    y = apply(params, x, training)  # gamma * layer(x) + beta",
              "    params = update_moving(params, x, momentum=0.9)  # on training batches", "",
              "apply does not update the moving statistics of batch aggregates (used when",
              "training is False); update_moving does, from the batch's statistics.", "",
              "Layer program (evonorm DSL; x the input, zero, v0 and v1 per-channel params;",
              "`/` is clamped_div):", "",
              *(f"    {line}" for line in text.splitlines())]
    if moving:
        header += ["", "Moving statistics in params:", "", *moving]
    cast = ("value" if flavor == "python"
            else "jax.lax.stop_gradient(value).astype(xp.asarray(params[key]).dtype)")
    source = [
        '"""' + header[0], *header[1:], '"""', "", imports, "",
        _HELPERS.format(eps=EPS, exp_clip=EXP_CLIP, groups=int(groups)).rstrip("\n"),
        "", "",
        "def _layer(params, x, training, observed):",
        '    """The layer before the affine, one assignment per statement."""',
        *body,
        _API.format(init="\n".join(init), momentum=MOVING_AVERAGE_DECAY,
                    observed=cast).rstrip("\n"),
        "",
    ]
    return "\n".join(source)
