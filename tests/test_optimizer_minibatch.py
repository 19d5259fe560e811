"""Minibatch tasks of the optimizer space (issue 27): counter-based batches and augmentation
(`Task.batch`), (program, seed) determinism in the batched interpreter, training that matches a
hand-written optax loop on the same batches, the warmup-cosine schedule and gradient clipping,
failed evaluations for NaN or diverging user tasks, and the locally generated data (MNIST-1D
cached under the datasets directory, digits shifted, CPython's help text)."""

from __future__ import annotations

import random
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import user_optimizer_tasks as user_tasks

from automl.extras import MissingExtraError
from search_spaces.optimizers import Task, interpreter
from search_spaces.optimizers import tasks as tasks_module
from search_spaces.optimizers.space import SGD_MOMENTUM, OptimizersSpace, adamw_dsl
from search_spaces.optimizers.validation import MetaValidationOptions

LION_NO_DECAY = """update = interp(g, m, 0.9)
update = sign(update)
m = interp(g, m, 0.99)
update = update * lr
"""


@pytest.fixture(scope="module")
def space():
    return OptimizersSpace({})


def test_batch_size_is_checked_in_one_line():
    task = user_tasks.linear_task()
    fields = dict(name="t", steps=3, init_params=task.init_params, loss=task.loss,
                  train_x=task.train_x, train_y=task.train_y, valid_x=task.valid_x,
                  valid_y=task.valid_y)
    for size in (0, 49, True, 2.5):
        with pytest.raises(ValueError, match="batch_size") as error:
            Task(**fields, batch_size=size)
        assert "\n" not in str(error.value)
    with pytest.raises(TypeError, match="augment"):
        Task(**fields, augment=3)
    assert Task(**fields, batch_size=np.int64(48)).batch_size == 48


def test_minibatches_are_a_function_of_seed_and_step():
    task = user_tasks.minibatch_task()
    key = jax.random.PRNGKey(0)
    batch = jax.jit(task.batch)
    x1, y1 = batch(key, 1)
    assert x1.shape == (8, 4) and y1.shape == (8,)
    again = batch(key, 1)
    np.testing.assert_array_equal(x1, again[0])
    np.testing.assert_array_equal(y1, again[1])
    x2, _ = batch(key, 2)
    x1_other_seed, _ = batch(jax.random.PRNGKey(1), 1)
    assert not np.array_equal(x1, x2) and not np.array_equal(x1, x1_other_seed)
    # rows of the training split, inputs and targets together
    train_x, train_y = np.asarray(task.train_x), np.asarray(task.train_y)
    for row, target in zip(np.asarray(x1), np.asarray(y1), strict=True):
        (index,) = np.flatnonzero((train_x == row).all(axis=1))
        assert train_y[index] == target
    # over many steps every training sample is drawn (uniform over the split)
    drawn = jax.vmap(lambda t: batch(key, t)[1])(jnp.arange(1, 61))
    assert set(np.asarray(drawn).ravel().tolist()) == set(train_y.tolist())
    # a full-batch task's batch is its training split
    full = user_tasks.linear_task()
    assert full.batch(key, 5)[0] is full.train_x


def test_augmentation_gets_a_key_of_its_step():
    base = user_tasks.minibatch_task()

    def jitter(key, x):
        return x + jax.random.normal(key, x.shape)

    task = Task(name="jittered", steps=3, init_params=base.init_params, loss=base.loss,
                train_x=base.train_x, train_y=base.train_y, valid_x=base.valid_x,
                valid_y=base.valid_y, batch_size=8, augment=jitter)
    key = jax.random.PRNGKey(0)
    plain, _ = base.batch(key, 1)
    augmented, _ = task.batch(key, 1)
    assert not np.allclose(plain, augmented)  # same rows, augmented
    np.testing.assert_array_equal(augmented, task.batch(key, 1)[0])
    noise1 = augmented - plain
    noise2 = task.batch(key, 2)[0] - base.batch(key, 2)[0]
    assert not np.allclose(noise1, noise2)


def _trainer(space, task, seed=0, batch_size=4, **options):
    return interpreter.make_trainer(task, batch_size, space.settings.max_statements,
                                    space.settings.max_constants, (0.01, 0.03), seed=seed,
                                    **options)


@pytest.mark.slow
def test_a_program_and_seed_train_alike_whatever_shares_the_batch(space):
    task = user_tasks.minibatch_task()
    adamw, sgd = space.parse(adamw_dsl(0.0)), space.parse(SGD_MOMENTUM)
    lion = space.parse(LION_NO_DECAY)
    run = _trainer(space, task)

    def losses(programs, seed=None):
        encoded = interpreter.encode(programs, space.settings.max_statements,
                                     space.settings.max_constants)
        return run(interpreter.pad(encoded, 4), seed)[0]

    first = losses([adamw, sgd, lion])
    second = losses([lion, adamw])
    np.testing.assert_array_equal(first[0], second[1])
    np.testing.assert_array_equal(first[2], second[0])
    np.testing.assert_array_equal(first, losses([adamw, sgd, lion]))
    # another seed: other initial parameters and batches, the same compiled function
    other = losses([adamw, sgd, lion], seed=1)
    assert not np.allclose(first[:3], other[:3])
    built_for_seed_1 = _trainer(space, task, seed=1)
    encoded = interpreter.encode([adamw, sgd, lion], space.settings.max_statements,
                                 space.settings.max_constants)
    np.testing.assert_allclose(built_for_seed_1(interpreter.pad(encoded, 4))[0][:3],
                               other[:3], rtol=1e-6)


@pytest.mark.slow
def test_minibatch_training_is_optax_on_the_same_batches(space):
    """The interpreter's SGD with momentum on the task's batches (warmup-cosine rate, clipped
    gradients) against optax.chain(clip_by_global_norm, sgd(schedule, momentum)) fed
    `task.batch(key, t)` by hand."""
    task = user_tasks.minibatch_task()
    rate, clip, seed = 0.03, 0.5, 2
    run = interpreter.make_trainer(task, 1, space.settings.max_statements,
                                   space.settings.max_constants, (rate,), seed=seed,
                                   lr_schedule="warmup_cosine", gradient_clip=clip)
    encoded = interpreter.encode([space.parse(SGD_MOMENTUM)], space.settings.max_statements,
                                 space.settings.max_constants)
    (loss,), _ = run(encoded)

    schedule = optax.warmup_cosine_decay_schedule(0.0, rate, interpreter.warmup_steps(
        task.steps), task.steps, 0.0)
    optimizer = optax.chain(optax.clip_by_global_norm(clip),
                            optax.sgd(schedule, momentum=0.9))
    key = jax.random.PRNGKey(seed)
    params = task.init_params(key)
    state = optimizer.init(params)

    @jax.jit
    def step(params, state, t):
        grads = jax.grad(task.loss)(params, *task.batch(key, t))
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for t in range(1, task.steps + 1):
        params, state = step(params, state, t)
    assert loss[0] == pytest.approx(float(task.validation_loss(params)), rel=1e-4)


def test_warmup_cosine_is_optax_warmup_cosine_decay():
    steps, rate = 200, 0.1
    warmup = interpreter.warmup_steps(steps)
    assert warmup == 10 and interpreter.warmup_steps(3) == 1
    t = jnp.arange(1, steps + 1, dtype=jnp.float32)
    ours = np.asarray(interpreter.scheduled_lr(rate, t, steps, "warmup_cosine"))
    expected = np.asarray(optax.warmup_cosine_decay_schedule(0.0, rate, warmup, steps, 0.0)(
        jnp.arange(steps)))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-8)
    assert ours[0] == 0.0 and ours[warmup] == pytest.approx(rate)
    assert np.all(np.diff(ours[: warmup + 1]) > 0) and np.all(np.diff(ours[warmup:]) < 0)
    assert ours[-1] < 1e-4 * rate


def test_clip_by_global_norm_is_optax():
    g = jnp.asarray([3.0, 4.0, 0.0])
    np.testing.assert_allclose(interpreter.clip_by_global_norm(g, 1.0), [0.6, 0.8, 0.0],
                               rtol=1e-6)
    np.testing.assert_array_equal(interpreter.clip_by_global_norm(g, 10.0), g)


def test_gradient_clip_enters_the_cache_key_only_when_set():
    plain = OptimizersSpace({})
    assert "gradient_clip" not in plain.evaluation_settings()["settings"]
    clipped = OptimizersSpace({"gradient_clip": 1.0})
    assert clipped.evaluation_settings()["settings"]["gradient_clip"] == 1.0
    assert clipped.settings_hash() != plain.settings_hash()
    with pytest.raises(ValueError, match="gradient_clip"):
        OptimizersSpace({"gradient_clip": 0})


@pytest.mark.slow
@pytest.mark.parametrize(("task", "batching"), [
    ("nan_minibatch_task", "map"), ("diverging_minibatch_task", "map"),
    ("nan_minibatch_task", "vmap")])
def test_a_nan_or_diverging_user_task_is_a_failed_evaluation(task, batching):
    spec = f"user_optimizer_tasks:{task}"
    space = OptimizersSpace({"tasks": [spec],
                             "funnel_tasks": [], "learning_rates": [0.01, 0.1],
                             "program_batching": batching})
    programs = [space.parse(adamw_dsl(0.0)), space.parse(SGD_MOMENTUM)]
    evaluations = space.evaluate(programs)
    assert len(evaluations) == 2
    for evaluation in evaluations:
        assert evaluation.objectives is None
        assert evaluation.error == f"diverged on {spec} at every learning rate"


def test_mnist1d_is_generated_once_and_then_read_from_its_cache(tmp_path, monkeypatch):
    import mnist1d.data

    made = []

    def fake_make_dataset(args):
        made.append(dict(args.__dict__))
        np.random.seed(args.seed)  # the package seeds the global generators
        random.seed(args.seed)
        x = np.random.normal(size=(10, args.final_seq_length))
        return {"x": x[:8], "y": np.arange(8) % 10, "x_test": x[8:], "y_test": np.arange(2)}

    monkeypatch.setattr(mnist1d.data, "make_dataset", fake_make_dataset)
    numpy_before, python_before = np.random.get_state()[1].copy(), random.getstate()
    first = tasks_module.mnist1d_arrays(str(tmp_path))
    assert len(made) == 1 and made[0]["num_samples"] == 5000 and "url" not in made[0]
    assert made[0]["train_split"] == 0.8 and made[0]["final_seq_length"] == 40
    # the generator's global seeding is undone
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)
    assert random.getstate() == python_before
    (cached,) = tmp_path.iterdir()
    assert cached.name.startswith("mnist1d-") and cached.suffix == ".npz"

    def no_generation(args):
        raise AssertionError("generated again")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    second = tasks_module.mnist1d_arrays(str(tmp_path))
    assert set(second) == {"x", "y", "x_test", "y_test"}
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    # the cache directory comes from $AUTOML_DATASETS
    monkeypatch.setenv("AUTOML_DATASETS", str(tmp_path))
    assert tasks_module.datasets_directory() == str(tmp_path)
    np.testing.assert_array_equal(tasks_module.mnist1d_arrays()["x"], first["x"])


def test_mnist1d_without_its_package_names_the_extra(monkeypatch, tmp_path):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mnist1d" else find_spec(name, *a))
    with pytest.raises(MissingExtraError, match=r"mnist1d.*\[optimizers\]") as error:
        tasks_module.mnist1d_arrays(str(tmp_path))
    assert "\n" not in str(error.value)


def test_patches_in_the_graph_and_random_shifts():
    images = np.random.default_rng(0).normal(size=(5, 64)).astype(np.float32)
    np.testing.assert_array_equal(tasks_module.image_patches_in_graph(jnp.asarray(images)),
                                  tasks_module._image_patches(images))
    shifted = np.asarray(tasks_module.random_shifts(jax.random.PRNGKey(0),
                                                    jnp.asarray(images)))
    padded = np.pad(images.reshape(5, 8, 8), ((0, 0), (1, 1), (1, 1)))
    for image, out in zip(padded, shifted.reshape(5, 8, 8), strict=True):
        assert any(np.array_equal(out, image[dy:dy + 8, dx:dx + 8])
                   for dy in range(3) for dx in range(3))
    again = tasks_module.random_shifts(jax.random.PRNGKey(1), jnp.asarray(images))
    assert not np.array_equal(shifted, again)


def test_the_language_model_data_is_cpython_help_text_split_by_position():
    train_text, valid_text = tasks_module._pydoc_text()
    assert len(train_text) + len(valid_text) > 400_000
    assert len(valid_text) == pytest.approx(len(train_text) / 9, rel=0.01)
    train_x, train_y, valid_x, valid_y, vocabulary = tasks_module._char_lm_data()
    assert train_x.shape[1] == valid_x.shape[1] == tasks_module.LM_CONTEXT
    assert valid_x.shape[0] == tasks_module.LM_VALIDATION_WINDOWS
    assert train_x.shape[0] == (len(train_text) - 1) // tasks_module.LM_CONTEXT
    np.testing.assert_array_equal(train_x[:, 1:], train_y[:, :-1])  # next character
    np.testing.assert_array_equal(train_y[:-1, -1], train_x[1:, 0])  # consecutive windows
    assert min(train_x.min(), valid_x.min()) >= 0 and max(train_x.max(),
                                                          valid_x.max()) < vocabulary


def cost(name: str) -> int:
    task = tasks_module.get_task(name)
    return task.steps * task.parameter_count


def assert_roles_and_funnel_cost(tiers: dict[str, tuple[str, ...]]) -> None:
    """Each task is registered in its tier's role, and each funnel task costs 4-10x (steps x
    parameters) the proxy it scales."""
    for tier, names in tiers.items():
        assert all(tasks_module.TASK_NAMES[name] == tier for name in names)
    for funnel, proxy in zip(tiers["funnel"], tiers["proxy"], strict=True):
        assert 4 <= cost(funnel) / cost(proxy) <= 10, (funnel, cost(funnel) / cost(proxy))


def test_the_default_tiers_are_minibatch_tasks_and_the_funnel_is_4_to_10x_the_proxies():
    tiers = tasks_module.DEFAULT_TIERS
    assert OptimizersSpace({}).settings.tasks == tiers["proxy"]
    assert OptimizersSpace({}).settings.funnel_tasks == tiers["funnel"]
    assert OptimizersSpace({}).settings.lr_schedule == "warmup_cosine"
    held_out = tiers["meta_validation"]
    assert len(held_out) >= 4 and "char_lm" in held_out
    assert MetaValidationOptions().tasks == held_out  # what automl validate trains on
    assert not set(held_out) & (set(tiers["proxy"]) | set(tiers["funnel"]))
    assert_roles_and_funnel_cost(tiers)


def test_the_gpu_tiers_keep_the_roles_and_the_gpu_config_uses_them():
    from automl.config import load_config

    tiers = tasks_module.GPU_TIERS
    searched = set(tiers["proxy"]) | set(tiers["funnel"])
    held_out = tiers["meta_validation"]
    assert len(held_out) >= 4 and "char_lm_wide" in held_out and not set(held_out) & searched
    # nothing either tier searches on is held out by the other
    assert not searched & set(tasks_module.DEFAULT_TIERS["meta_validation"])
    assert not set(held_out) & set(tasks_module.DEFAULT_TIERS["proxy"])
    assert_roles_and_funnel_cost(tiers)
    for gpu, cpu in zip(tiers["proxy"], tasks_module.DEFAULT_TIERS["proxy"], strict=True):
        assert cost(gpu) > 10 * cost(cpu)
    config = load_config(Path(__file__).resolve().parents[1] / "configs"
                         / "optimizer_minibatch_gpu.yaml")
    assert tuple(config.space.settings["tasks"]) == tiers["proxy"]
    assert tuple(config.space.settings["funnel_tasks"]) == tiers["funnel"]
    assert config.executor.num_gpus_per_worker == 1


MINIBATCH_TASKS = ("mlp_mnist1d", "cnn_digits_shift", "mlp_mnist1d_x", "cnn_digits_shift_x",
                   "char_lm", "cnn1d_mnist1d", "mlp_mnist1d_deep", "cnn_digits_shift_wide")


@pytest.mark.slow
@pytest.mark.parametrize("name", MINIBATCH_TASKS)
def test_minibatch_task_contract_and_adamw_learns_it(name, space):
    """Each built-in minibatch task: batches of its size, finite loss and gradients, and
    AdamW (rate 3e-3, warmup-cosine, the interpreter) lowers its validation loss; a rate of 0
    leaves it where it started."""
    task = tasks_module.get_task(name)
    assert task.batch_size is not None and task.kind in ("proxy", "funnel", "meta_validation")
    key = jax.random.PRNGKey(0)
    x, y = jax.jit(task.batch)(key, 1)
    assert x.shape[0] == y.shape[0] == task.batch_size
    params = task.init_params(key)
    loss, grads = jax.jit(jax.value_and_grad(task.loss))(params, x, y)
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads)
    initial = float(jax.jit(task.validation_loss)(params))
    run = interpreter.make_trainer(task, 1, space.settings.max_statements,
                                   space.settings.max_constants, (1e-9, 3e-3),
                                   lr_schedule="warmup_cosine")
    (losses,), _ = run(interpreter.encode([space.parse(adamw_dsl(0.0))],
                                          space.settings.max_statements,
                                          space.settings.max_constants))
    assert losses[0] == pytest.approx(initial, rel=1e-3)
    assert losses[1] < 0.8 * initial


def _meta_validate_script():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "meta_validate.py"
    spec = importlib.util.spec_from_file_location("meta_validate_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_meta_validate_ratios_are_paired_by_seed_with_a_bootstrap_interval():
    script = _meta_validate_script()
    result = script.evaluate_task("user_optimizer_tasks:minibatch_task", [0, 1, 2],
                                  (0.01, 0.1), (0.0, 0.1), "warmup_cosine", None)
    assert set(result["best_loss"]) == set(script.REFERENCES)
    assert all(len(losses) == 3 for losses in result["best_loss"].values())
    grid = set(interpreter.hyperparameter_grid((0.01, 0.1), (0.0, 0.1)))
    assert all(tuple(point) in grid for points in result["best_grid_point"].values()
               for point in points)
    rows = script.summarize(result, np.random.default_rng(0), 2000)
    assert rows["adamw"] == {"geometric_mean_ratio": 1.0, "ci95": [1.0, 1.0],
                             "ci95_t": [1.0, 1.0], "per_seed_ratio": [1.0, 1.0, 1.0]}
    for name, row in rows.items():
        expected = np.exp(np.mean(np.log(np.asarray(result["best_loss"][name]))
                                  - np.log(np.asarray(result["best_loss"]["adamw"]))))
        assert row["geometric_mean_ratio"] == pytest.approx(expected)
        low, high = row["ci95"]
        slack = 1 + 1e-9  # exp(mean(log)) of one seed repeated rounds in the last bit
        assert min(row["per_seed_ratio"]) / slack <= low <= row["geometric_mean_ratio"] * slack
        assert row["geometric_mean_ratio"] / slack <= high <= max(row["per_seed_ratio"]) * slack
        low_t, high_t = row["ci95_t"]
        assert low_t <= row["geometric_mean_ratio"] * slack and high_t * slack >= high
    assert len({rows[name]["geometric_mean_ratio"] for name in rows}) == len(rows)
    # one seed diverging everywhere: an infinite ratio and interval, not an exception
    result["best_loss"]["sign_sgd"][0] = float("inf")
    assert script.summarize(result, np.random.default_rng(0), 100)["sign_sgd"]["ci95"] == [
        float("inf"), float("inf")]


def test_the_space_requires_mnist1d_only_for_tasks_on_it():
    assert OptimizersSpace({}).requirements() == {"sklearn": "optimizers",
                                                  "mnist1d": "optimizers"}
    full_batch = OptimizersSpace({"tasks": ["logreg_digits"], "funnel_tasks": []})
    assert full_batch.requirements() == {"sklearn": "optimizers"}
    funnel_only = OptimizersSpace({"tasks": ["logreg_digits"], "funnel_tasks": ["mlp_mnist1d_x"]})
    assert "mnist1d" in funnel_only.requirements()


def test_meta_validate_overall_ratio_pairs_seeds_across_tasks_and_has_two_intervals():
    script = _meta_validate_script()
    # two tasks, four seeds: "found" is 0.9x AdamW on the first task and 1.2x on the second
    # on every seed, so it wins one task and its overall geometric mean is sqrt(0.9 * 1.2)
    adamw = [1.0, 2.0, 3.0, 4.0]
    results = [{"best_loss": {"adamw": adamw, "found": [0.9 * x for x in adamw]}},
               {"best_loss": {"adamw": adamw, "found": [1.2 * x for x in adamw]}}]
    overall = script.summarize_overall(results, np.random.default_rng(0), 500)
    row = overall["found"]
    assert row["geometric_mean_ratio"] == pytest.approx(np.sqrt(0.9 * 1.2))
    assert row["tasks_won"] == 1
    # no spread between seeds: both intervals are the point itself
    assert row["ci95_t"] == pytest.approx([np.sqrt(1.08)] * 2)
    assert row["ci95"] == pytest.approx([np.sqrt(1.08)] * 2)
    assert overall["adamw"]["geometric_mean_ratio"] == 1.0
    # with spread, the t interval (3 degrees of freedom) is wider than the percentile
    # bootstrap over 4 seeds, which undercovers
    log_ratios = np.log([0.8, 0.95, 1.0, 0.9])
    low, high = script.t_interval(log_ratios)
    boot_low, boot_high = script.bootstrap_interval(log_ratios, np.random.default_rng(0), 5000)
    assert low < boot_low < np.exp(log_ratios.mean()) < boot_high < high
    # a seed diverging everywhere: infinite, and null in the JSON written
    results[0]["best_loss"]["found"][2] = float("inf")
    assert script.summarize_overall(results, np.random.default_rng(0), 10)["found"][
        "geometric_mean_ratio"] == float("inf")
    assert script.finite_json({"a": [1.0, float("inf")], "b": float("nan")}) == {
        "a": [1.0, None], "b": None}


def test_meta_validate_reads_programs_by_name_and_refuses_bad_ones(tmp_path):
    script = _meta_validate_script()
    program = tmp_path / "found.dsl"
    program.write_text("update = sign(g)\nupdate = update * lr\n")
    programs = script.read_programs([f"found={program}"], ["lion"])
    assert list(programs) == ["adamw", "lion", "found"]
    assert programs["found"] == program.read_text()
    for specs, references, message in (
            ([], ["adam"], "unknown 'adam'"),
            (["found"], [], "expected NAME=FILE"),
            ([f"lion={program}"], ["lion"], "'lion' is taken"),
            ([f"x={tmp_path / 'missing.dsl'}"], [], "No such file")):
        with pytest.raises(SystemExit, match=message):
            script.read_programs(specs, references)


def test_meta_validate_folds_adamw_variants_into_one_reference_tuned_over_b1():
    script = _meta_validate_script()
    programs = script.adamw_variants({"adamw": adamw_dsl(0.0), "found": "x"}, [0.65, 0.9])
    assert list(programs) == ["adamw_b1=0.65", "adamw_b1=0.9", "found"]
    assert programs["adamw_b1=0.9"] == adamw_dsl(0.0)
    assert "interp(g, m, 0.65)" in programs["adamw_b1=0.65"]
    assert script.adamw_variants({"adamw": "a"}, [0.9]) == {"adamw": "a"}
    with pytest.raises(SystemExit, match="each must be in"):
        script.adamw_variants({"adamw": "a"}, [0.9, 1.0])
    # per seed the better variant is the reference: 0.65 wins seeds 0 and 2, 0.9 seed 1;
    # a variant diverging everywhere on a seed (inf) never is
    result = {"best_loss": {"adamw_b1=0.65": [1.0, 3.0, float("inf")],
                            "adamw_b1=0.9": [2.0, 2.5, 4.0], "found": [0.5, 0.5, 0.5]},
              "best_grid_point": {"adamw_b1=0.65": [(0.01, 0.0), (0.1, 0.1), (None, None)],
                                  "adamw_b1=0.9": [(0.03, 0.0), (0.01, 0.1), (0.3, 0.0)],
                                  "found": [(0.1, 0.0)] * 3}}
    folded = script.tuned_over_b1(result)
    assert list(folded["best_loss"]) == ["adamw", "found"]
    assert folded["best_loss"]["adamw"] == [1.0, 2.5, 4.0]
    assert folded["best_grid_point"]["adamw"] == [(0.01, 0.0, 0.65), (0.01, 0.1, 0.9),
                                                  (0.3, 0.0, 0.9)]
    assert folded["adamw_variants"]["adamw_b1=0.65"] == [1.0, 3.0, float("inf")]
    rows = script.summarize(folded, np.random.default_rng(0), 100)
    assert rows["found"]["per_seed_ratio"] == pytest.approx([0.5, 0.2, 0.125])


def test_the_search_reference_is_adamw_at_its_best_b1_too():
    """`reference_b1s`: per task the best of the AdamW variants over the grid and decays,
    trained for real; each variant alone gives the same loss as a space tuned over it alone."""
    task = "user_optimizer_tasks:minibatch_task"
    common = {"tasks": [task], "funnel_tasks": [], "learning_rates": [0.01, 0.1],
              "reference_weight_decays": [0.0]}
    alone = [OptimizersSpace({**common, "reference_b1s": [b1]}).reference_losses([task])[task]
             for b1 in (0.5, 0.9)]
    both = OptimizersSpace({**common, "reference_b1s": [0.5, 0.9]})
    assert both.reference_losses([task])[task] == min(alone)
    assert alone[0] != alone[1]
    default = OptimizersSpace({**common, "reference_b1s": [0.9]})
    assert "reference_b1s" not in default.evaluation_settings()["settings"]
    assert default.settings_hash() == OptimizersSpace(common).settings_hash()
    assert both.settings_hash() != default.settings_hash()
    for bad in ([], [1.0], [0.0]):
        with pytest.raises(ValueError, match="reference_b1s must be"):
            OptimizersSpace({**common, "reference_b1s": bad})
