"""Optimizer-program space: DSL baselines equal optax, the JAX interpreter equals numpy,
Lion's weight-decay bound, and batched training of candidates on the proxy tasks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from automl.ir import run_numpy
from search_spaces.optimizers import interpreter
from search_spaces.optimizers.space import (
    ADAMW,
    LION,
    SGD_MOMENTUM,
    OptimizersSpace,
    adamw_dsl,
    aggregate_ratios,
)
from tests.standalone import load_standalone

SHAPES = [(3, 4), (5,)]


@pytest.fixture(scope="module")
def space():
    return OptimizersSpace({"tasks": ["logreg_digits", "linreg_noisy"],
                            "funnel_tasks": ["mlp_digits_x10"],
                            "learning_rates": [1e-3, 1e-2, 1e-1]})


def quadratic_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    targets = [jnp.asarray(rng.normal(size=shape)) for shape in SHAPES]
    scales = [1.0 + jnp.abs(t) for t in targets]

    def loss(params):
        return sum(jnp.sum((p - t) ** 2 * s) for p, t, s in zip(params, targets, scales,
                                                                  strict=True))

    start = [jnp.asarray(rng.normal(size=shape)) for shape in SHAPES]
    return loss, start


def run_interpreter(space, text, loss, start, lr, steps, dtype=jnp.float64):
    program = space.simplify(space.parse(text))[0]
    encoded = interpreter.encode([program], space.settings.max_statements,
                                 space.settings.max_constants)
    layout = interpreter.TensorLayout(tuple(SHAPES))
    segments = layout.segment_ids()

    @jax.jit
    def step(w, m, v, t):
        g = layout.pack(jax.grad(loss)(layout.unpack(w)))
        update, m, v = interpreter.interpret(
            encoded.opcodes[0], encoded.args[0], encoded.constants[0].astype(dtype),
            encoded.outputs[0], encoded.lengths[0], (w, g, m, v, lr, t), segments,
            layout.num_segments)
        return w - update, m, v

    w = layout.pack(start).astype(dtype)
    m = v = jnp.zeros_like(w)
    for t in range(1, steps + 1):
        w, m, v = step(w, m, v, jnp.asarray(float(t), dtype))
    return layout.unpack(w)


def run_optax(optimizer, loss, start, steps):
    params, state = start, optimizer.init(start)
    for _ in range(steps):
        updates, state = optimizer.update(jax.grad(loss)(params), state, params)
        params = optax.apply_updates(params, updates)
    return params


@pytest.fixture
def float64():
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)


@pytest.mark.slow
@pytest.mark.parametrize(("text", "reference"), [
    (LION, optax.lion(1e-3, b1=0.9, b2=0.99, weight_decay=0.01)),
    (ADAMW, optax.adamw(1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.01)),
    (SGD_MOMENTUM, optax.sgd(1e-3, momentum=0.9)),
], ids=["lion", "adamw", "sgd_momentum"])
def test_dsl_baselines_follow_the_optax_trajectory(space, float64, text, reference):
    """100 steps on a random problem, to 1e-6. (AdamW's residual, ~6e-7, comes from the 1e-8
    that the function set's division adds to the bias-correction denominators.)"""
    loss, start = quadratic_problem()
    ours = run_interpreter(space, text, loss, start, 1e-3, 100)
    theirs = run_optax(reference, loss, start, 100)
    moved = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(theirs, start, strict=True))
    assert moved > 0.05, "the problem is not trivial: parameters moved"
    difference = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(ours, theirs, strict=True))
    assert difference < 1e-6


def test_lion_with_weight_decay_keeps_weights_in_the_inf_ball(space):
    """Lion-K (Chen, Liu et al. 2023): Lion with decoupled weight decay wd solves
    min f(w) s.t. ||w||_inf <= 1/wd; a linear loss drives w to that boundary, not beyond."""
    program = space.simplify(space.parse(LION.replace("w * 0.01", "w * 0.5")))[0]
    rng = np.random.default_rng(1)
    direction = rng.normal(size=(4, 6))  # loss = -<direction, w>: unbounded below
    w = rng.uniform(-1, 1, size=(4, 6))
    m = np.zeros_like(w)
    lr = 0.01
    for t in range(1, 3001):
        out = run_numpy(program, {"w": w, "g": -direction, "m": m, "v": m, "lr": lr, "t": t},
                        space.signature.registry)
        w, m = w - out["update"], out["m"]
    bound = 1 / 0.5
    assert np.max(np.abs(w)) <= bound * (1 + lr)
    assert np.max(np.abs(w)) >= bound * (1 - 2 * lr), "the constraint is active"


@pytest.mark.slow
def test_the_interpreter_computes_what_numpy_computes(space):
    """Random mutants of AdamW: one interpreted step equals one numpy step (float32). numpy
    sees two parameter tensors as two rows, the interpreter as two segments of a flat vector:
    per-tensor reductions (norm, dot, cosine_sim) must agree."""
    rng = np.random.default_rng(2)
    layout = interpreter.TensorLayout(((3, 4), (12,)))
    inputs = {name: rng.normal(size=(2, 12)).astype(np.float32) for name in ("w", "g", "m")}
    inputs["v"] = np.abs(rng.normal(size=(2, 12))).astype(np.float32)
    step = jax.jit(interpreter.interpret, static_argnums=(7,))
    compared = 0
    program = space.adamw
    for _ in range(40):
        program, _ = space.mutate(program, rng)
        program = space.simplify(program)[0]
        encoded = interpreter.encode([program], space.settings.max_statements,
                                     space.settings.max_constants)
        flat = [jnp.asarray(inputs[n].reshape(-1)) for n in ("w", "g", "m", "v")]
        ours = step(encoded.opcodes[0], encoded.args[0], encoded.constants[0],
                    encoded.outputs[0], encoded.lengths[0], (*flat, 0.1, 3.0),
                    layout.segment_ids(), layout.num_segments)
        reference = run_numpy(program, {**inputs, "lr": 0.1, "t": 3.0}, space.signature.registry)
        for name, value in zip(("update", "m", "v"), ours, strict=True):
            expected = np.broadcast_to(reference[name], (2, 12)).reshape(-1).astype(np.float64)
            got = np.asarray(value, np.float64)
            finite = np.isfinite(expected) & (np.abs(expected) < 1e6)
            np.testing.assert_allclose(got[finite], expected[finite], rtol=2e-3, atol=1e-5)
            compared += int(finite.sum())
    assert compared > 1000


def test_encoding_rejects_programs_that_do_not_fit(space):
    long_program = "\n".join(["update = g"] + [f"update = update + {i}.5" for i in range(40)])
    program = space.parse(long_program + "\nupdate = update * lr\n")
    with pytest.raises(interpreter.EncodingError, match="statements"):
        interpreter.encode([program], 30, 50)
    with pytest.raises(interpreter.EncodingError, match="distinct constants"):
        interpreter.encode([program], 64, 8)
    (evaluation,) = space.evaluate([program])
    assert not evaluation.ok and "cannot be evaluated" in evaluation.error


@pytest.mark.slow
@pytest.mark.parametrize("batching", ["map", "vmap"])
def test_batched_training_matches_per_candidate_compilation(batching):
    """The interpreter's batched trainer (programs one after another, or all at once as on a
    GPU) and a per-candidate jit of the same program agree."""
    from search_spaces.optimizers.tasks import get_task

    space = OptimizersSpace({"tasks": ["linreg_noisy"], "funnel_tasks": [],
                             "learning_rates": [1e-3, 1e-2, 1e-1],
                             "program_batching": batching})
    assert "program_batching" not in space.evaluation_settings()["settings"]
    programs = [space.simplify(space.parse(text))[0] for text in (ADAMW, LION, SGD_MOMENTUM)]
    losses, _ = space._train("linreg_noisy", programs)
    for row, program in zip(losses, programs, strict=True):
        expected, _ = interpreter.make_unrolled_trainer(
            get_task("linreg_noisy"), program, space.settings.learning_rates,
            lr_schedule=space.settings.lr_schedule)()
        np.testing.assert_allclose(row, expected, rtol=1e-4)
    assert len({round(float(row.min()), 4) for row in losses}) == 3, "programs differ"


@pytest.mark.slow
def test_an_optimizer_campaign_runs_end_to_end(tmp_path):
    """Warm start from AdamW, regularized evolution on `score`, candidates stored."""
    from automl.config import parse_config
    from automl.controller import CampaignController
    from automl.store import Store

    config = parse_config("""
space: {name: optimizers, settings: {tasks: [linreg_noisy], funnel_tasks: [],
                                     learning_rates: [0.01, 0.1]}}
evolution: {strategy: regularized, objective: score, population_size: 8,
            tournament_size: 2, max_mutation_tries: 1000}
budget: {max_evaluations: 24}
executor: {kind: local, batch_size: 8}
""")
    with Store.open(f"sqlite:///{tmp_path / 'lion.db'}") as store:
        summary = CampaignController.create(config, store, "lion").run()
        candidates = store.load_candidates(summary.campaign.id)
    assert summary.evaluations == 24
    assert candidates[0].mutation == "initial"
    assert "interp(g, m, 0.9)" in candidates[0].program  # the AdamW seed
    assert any(c.parents for c in candidates)


def load_module(source: str, tmp_path, name: str):
    return load_standalone(source, tmp_path, name)


@pytest.mark.slow
@pytest.mark.parametrize(("text", "reference"), [
    (LION, optax.lion(1e-2, b1=0.9, b2=0.99, weight_decay=0.01)),
    (ADAMW, optax.adamw(1e-2, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.01)),
], ids=["lion", "adamw"])
def test_exported_jax_module_is_a_standalone_optimizer(space, tmp_path, text, reference):
    program = space.simplify(space.parse(text))[0]
    module = load_module(space.export(program, "jax"), tmp_path, "exported_jax")
    rng = np.random.default_rng(3)
    params = {"dense": {"w": jnp.asarray(rng.normal(size=(3, 4)), jnp.float32)},
              "bias": [jnp.asarray(rng.normal(size=(5,)), jnp.float32)]}
    target = jax.tree_util.tree_map(lambda x: x * 0 + 0.5, params)

    def loss(p):
        return sum(jnp.sum((a - b) ** 2) for a, b in zip(jax.tree_util.tree_leaves(p),
                                                           jax.tree_util.tree_leaves(target),
                                                           strict=True))

    ours, state = params, module.init(params)
    theirs, reference_state = params, reference.init(params)
    for _ in range(30):
        updates, state = module.update(jax.grad(loss)(ours), state, ours, 1e-2)
        ours = jax.tree_util.tree_map(lambda p, u: p - u, ours, updates)
        reference_updates, reference_state = reference.update(jax.grad(loss)(theirs),
                                                              reference_state, theirs)
        theirs = optax.apply_updates(theirs, reference_updates)
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs),
                    strict=True):
        np.testing.assert_allclose(a, b, atol=2e-5)


def test_exported_numpy_module_hashes_like_the_program(space, tmp_path):
    """The export computes what the stored program computes: same functional hash, for
    mutants that use per-tensor and global reductions too."""
    from automl.hashing import functional_hash

    rng = np.random.default_rng(5)
    programs = [space.adamw, space.simplify(space.parse(
        "update = clip_by_global_norm(g, 0.5) + dot(g, m) * norm(w) + global_norm(v)\n"
        "m = interp(g, m, 0.9)\nupdate = update * lr\n"))[0]]
    for _ in range(6):
        programs.append(space.simplify(space.mutate(programs[-1], rng)[0])[0])
    for index, program in enumerate(programs):
        module = load_module(space.export(program, "python"), tmp_path, f"exported_{index}")

        def trajectory(module=module, **probe):
            params = [probe["w"][0], probe["w"][1]]  # the probe's two rows: two tensors
            state = {"m": [probe["m"][0], probe["m"][1]], "v": [probe["v"][0], probe["v"][1]],
                     "t": 0}
            updates_seen = []
            for step in range(space.settings.hash_steps):
                grads = [probe[f"g{step}"][0], probe[f"g{step}"][1]]
                updates, state = module.update(grads, state, params, probe["lr"])
                params = [p - u for p, u in zip(params, updates, strict=True)]
                updates_seen.append(np.stack(updates))
            return updates_seen

        assert functional_hash(trajectory, space.probe()) == space.fingerprint(program), \
            space.format(program)


@pytest.mark.parametrize("gates", [True, False])
def test_a_proxy_winner_that_fails_the_funnel_scores_no_better_than_adamw(gates):
    space = OptimizersSpace({"tasks": ["linreg_noisy"], "funnel_tasks": ["mlp_digits_x10"],
                             "funnel_gates_score": gates})
    funnel_losses = np.array([[0.5, 3.0], [1.5, np.nan]])  # programs x learning rates
    space._train = lambda task, programs: (funnel_losses[:len(programs)], None)
    space.reference_losses = lambda tasks: dict.fromkeys(tasks, 1.0)  # AdamW's funnel loss
    results = [{"objectives": {"score": 0.8}, "metrics": {}},
               {"objectives": {"score": 0.7}, "metrics": {}},
               {"objectives": {"score": 1.3}, "metrics": {}}]  # not a winner: no funnel
    space._run_funnel([space.adamw] * 3, [0, 1, 2], results)
    assert results[0]["metrics"]["funnel_passed"] and results[0]["objectives"]["score"] == 0.8
    assert not results[1]["metrics"]["funnel_passed"]
    # its funnel loss is 1.5x AdamW's: no better than a program 1.5x worse on the proxy
    assert results[1]["objectives"]["score"] == (1.5 if gates else 0.7)
    assert results[1]["metrics"].get("proxy_score") == (0.7 if gates else None)
    assert "funnel" not in results[2]["metrics"]


@pytest.mark.slow
def test_the_reference_is_adamw_at_its_best_weight_decay_on_each_task():
    """Ratios are taken against AdamW at its best rate and weight decay per task, so raising
    the decay alone cannot beat it; the score is the worst task's ratio."""
    tasks = ["logreg_digits", "linreg_noisy"]
    space = OptimizersSpace({"tasks": tasks, "funnel_tasks": [], "learning_rates": [1e-2, 1e-1],
                             "reference_weight_decays": [0.0, 0.3]})
    evaluations = space.evaluate([space.parse(adamw_dsl(decay)) for decay in (0.0, 0.3)])
    losses = [{task: e.objectives[f"loss_{task}"] for task in tasks} for e in evaluations]
    reference = space.reference_losses(tasks)
    for task in tasks:
        assert reference[task] == pytest.approx(min(loss[task] for loss in losses), rel=1e-6)
    assert losses[0]["logreg_digits"] != pytest.approx(losses[1]["logreg_digits"], rel=1e-3)
    for evaluation, loss in zip(evaluations, losses, strict=True):
        worst = max(loss[task] / reference[task] for task in tasks)
        assert evaluation.objectives["score"] == pytest.approx(worst, rel=1e-6)
        assert worst >= 1 - 1e-6  # each is one of the variants the reference picks from


def test_the_worst_task_score_does_not_let_one_task_outweigh_the_rest():
    ratios = [0.25, 1.1, 1.05, 1.0]  # far better on one task, worse on two
    assert aggregate_ratios(ratios, "geometric_mean") < 1 < aggregate_ratios(ratios, "worst_task")
    assert aggregate_ratios(ratios, "worst_task") == 1.1


@pytest.mark.slow
def test_a_tuned_decoupled_weight_decay_trains_like_the_decay_written_into_the_program():
    """`weight_decays` adds `lr * wd * w` to every program's update, tuned with the rate:
    AdamW without decay, tuned over it, trains as AdamW with that decay in its text."""
    rates, decays = [1e-2, 1e-1], [0.0, 0.3]
    tuned = OptimizersSpace({"tasks": ["logreg_digits"], "learning_rates": rates,
                             "weight_decays": decays, "funnel_tasks": []})
    plain = OptimizersSpace({"tasks": ["logreg_digits"], "learning_rates": rates,
                             "funnel_tasks": []})
    assert tuned.grid == [(lr, wd) for lr in rates for wd in decays]
    (losses,), _ = tuned._train("logreg_digits", [tuned.parse(adamw_dsl(0.0))])
    written, _ = plain._train("logreg_digits", [plain.parse(adamw_dsl(d)) for d in decays])
    for column, (lr, wd) in enumerate(tuned.grid):
        expected = written[decays.index(wd), rates.index(lr)]
        assert losses[column] == pytest.approx(expected, rel=1e-5)
    assert written[0, 1] != pytest.approx(written[1, 1], rel=1e-3)  # the decay matters here
    (evaluation,) = tuned.evaluate([tuned.parse(adamw_dsl(0.0))])
    best = int(np.argmin(losses))
    assert evaluation.metrics["weight_decay"]["logreg_digits"] == tuned.grid[best][1]
    assert evaluation.metrics["learning_rate"]["logreg_digits"] == tuned.grid[best][0]
    assert evaluation.objectives["loss_logreg_digits"] == pytest.approx(losses[best], rel=1e-6)
    by_decay = tuned.losses_by_weight_decay("logreg_digits", tuned.parse(adamw_dsl(0.0)))
    for decay in decays:
        column = min((c for c, (_, wd) in enumerate(tuned.grid) if wd == decay),
                     key=lambda c: losses[c])
        assert by_decay[decay] == (pytest.approx(losses[column], rel=1e-6), tuned.grid[column][0])


@pytest.mark.slow
def test_adamw_tuned_like_its_reference_scores_exactly_one():
    """Candidates and the reference get the same (rate, decay) tuning: AdamW itself ties."""
    space = OptimizersSpace({"tasks": ["logreg_digits", "linreg_noisy"], "funnel_tasks": [],
                             "learning_rates": [1e-2, 1e-1], "weight_decays": [0.0, 0.3],
                             "reference_weight_decays": [0.0]})
    (evaluation,) = space.evaluate([space.parse(adamw_dsl(0.0))])
    assert evaluation.objectives["score"] == 1.0


def test_the_cache_key_without_a_decay_grid_is_the_one_before_it_existed():
    space = OptimizersSpace({})
    assert "weight_decays" not in space.evaluation_settings()["settings"]
    assert OptimizersSpace({"weight_decays": [0.0]}).settings_hash() != space.settings_hash()


@pytest.mark.parametrize(("settings", "message"), [
    ({"reference_weight_decays": [0.01, -0.1]}, "reference_weight_decays"),
    ({"reference_weight_decays": []}, "reference_weight_decays"),
    ({"weight_decays": [0.0, float("inf")]}, "weight_decays"),
    ({"weight_decays": []}, "weight_decays"),
    ({"score": "mean"}, "score"),
])
def test_bad_reference_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        OptimizersSpace(settings)


@pytest.mark.parametrize("first, second", [
    # equal at the random-state probe's lr of 0.1 (0.1 * 0.1 = 0.01), not at other rates
    ("update = w * lr\nupdate = update * lr\n", "update = w * 0.01\n"),
    # equal while v > 0, as in a probe with random (positive) v; training starts at v = 0
    ("update = interp(g, v, 0.999)\nm = arctanh(g)\nv = update\n",
     "v = interp(g, v, 0.999)\nupdate = relu(v)\nm = update\n"),
])
def test_programs_that_train_differently_hash_differently(space, first, second):
    """Both pairs shared a hash with one probe, and a search's cache answered one with the
    other's score, 17% and 85% off what it scores when trained."""
    a, b = (space.simplify(space.parse(text))[0] for text in (first, second))
    assert space.fingerprint(a) != space.fingerprint(b)


def test_rewritings_still_hash_alike(space):
    a = space.parse("t1 = lr * w\nupdate = t1 * 0.5\n")
    b = space.parse("t1 = w * 0.5\nupdate = lr * t1\n")
    assert space.fingerprint(a) == space.fingerprint(b)


@pytest.mark.slow
@pytest.mark.parametrize(("text", "optimizer"), [
    (adamw_dsl(0.0), lambda schedule, wd: optax.adamw(schedule, eps=1e-8, weight_decay=wd)),
    (LION.replace("update = update + w * 0.01\n", ""),
     lambda schedule, wd: optax.lion(schedule, b1=0.9, b2=0.99, weight_decay=wd)),
], ids=["adamw", "lion"])
def test_a_cosine_schedule_trains_like_optax_with_cosine_decay(text, optimizer):
    """`lr_schedule: cosine` decays the rate a program reads, and the added decay's, as
    optax.cosine_decay_schedule does inside optax.adamw / optax.lion."""
    from search_spaces.optimizers.tasks import get_task

    rate, decay = 3e-2, 0.3
    task = get_task("logreg_digits")
    losses = {}
    for schedule in ("constant", "cosine"):
        space = OptimizersSpace({"tasks": ["logreg_digits"], "funnel_tasks": [],
                                 "learning_rates": [rate], "weight_decays": [decay],
                                 "lr_schedule": schedule})
        (losses[schedule],), _ = space._train("logreg_digits", [space.parse(text)])
    reference = optimizer(optax.cosine_decay_schedule(rate, task.steps), decay)
    params = task.init_params(jax.random.PRNGKey(0))
    state = reference.init(params)
    for _ in range(task.steps):
        updates, state = reference.update(
            jax.grad(task.loss)(params, task.train_x, task.train_y), state, params)
        params = optax.apply_updates(params, updates)
    expected = float(task.validation_loss(params))
    assert losses["cosine"][0] == pytest.approx(expected, rel=1e-4)
    assert losses["constant"][0] != pytest.approx(expected, rel=1e-2)  # the schedule matters


def test_the_learning_rate_schedule_is_in_the_cache_key_only_when_not_the_default():
    default = OptimizersSpace({"lr_schedule": "warmup_cosine"})
    assert "lr_schedule" not in default.evaluation_settings()["settings"]
    assert default.settings_hash() == OptimizersSpace({}).settings_hash()
    constant = OptimizersSpace({"lr_schedule": "constant"})
    assert constant.evaluation_settings()["settings"]["lr_schedule"] == "constant"
    assert len({constant.settings_hash(), default.settings_hash(),
                OptimizersSpace({"lr_schedule": "cosine"}).settings_hash()}) == 3
    with pytest.raises(ValueError, match="lr_schedule"):
        OptimizersSpace({"lr_schedule": "linear"})


def test_the_export_writes_each_op_as_its_table_template(space, tmp_path):
    """Statements are the space's op table's templates (`{tensors0}`: all tensors of an
    argument, `{global_norm0}`: their norm, computed once); a table with another template for
    an op exports that one, and a template field the exporter does not know is refused."""
    import dataclasses

    text = "update = lr * sign(g) + clip_by_global_norm(m, 0.5) + global_norm(v)"
    program = space.parse(text)
    source = space.export(program, "python")
    assert "r0 = [xp.sign(g[i]) for i in n]" in source
    assert "    _norm = _global_norm(m)\n    r2 = [m[i] * xp.minimum(1.0, xp.abs(0.5) / " \
           "(_norm + EPS)) for i in n]" in source
    assert "r4 = [xp.broadcast_to(_global_norm(v), xp.shape(w[i])) for i in n]" in source
    table = space.signature.registry
    sign = table.get("sign")
    other = OptimizersSpace(space.settings)
    other.__dict__["signature"] = dataclasses.replace(space.signature, registry=table.extended(
        [dataclasses.replace(sign, sources={"python": "xp.copysign(1.0, {0})"})]))
    changed = other.export(program, "python")
    assert "r0 = [xp.copysign(1.0, g[i]) for i in n]" in changed
    assert "r0 = [xp.sign(g[i]) for i in n]" in other.export(program, "jax")
    module = load_module(changed, tmp_path, "copysign")
    rng = np.random.default_rng(0)
    params = [rng.normal(size=shape) for shape in SHAPES]
    grads = [rng.normal(size=shape) for shape in SHAPES]
    updates, _ = module.update(grads, module.init(params), params, 0.1)
    reference, _ = load_module(source, tmp_path, "sign").update(
        grads, module.init(params), params, 0.1)
    for a, b in zip(updates, reference, strict=True):
        np.testing.assert_array_equal(a, b)
    other.__dict__["signature"] = dataclasses.replace(space.signature, registry=table.extended(
        [dataclasses.replace(sign, source="xp.sign({tensors3})")]))
    with pytest.raises(ValueError, match="unknown template field"):
        other.export(program, "python")
