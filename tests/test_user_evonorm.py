"""User EvoNorm networks and image data (issue 26): ``architectures: ["pkg.mod:make_net",
resnet]`` where ``make_net()`` returns the public `search_spaces.evonorm.Architecture`, and
``dataset: {npz: path}`` (NHWC images, integer labels); the one-line errors of either, the
cache key's record of them (a network's version, the data file's digest), and a short
campaign on both (slow: it trains).

The user's networks live in ``tests/user_evonorm_nets.py``, imported by import string as a
user's own module would be.
"""

from __future__ import annotations

import numpy as np
import pytest
import user_evonorm_nets

import automl
from automl.config import ConfigError, config_from_mapping
from search_spaces.evonorm import Architecture, models, training
from search_spaces.evonorm.space import BASELINES, EvoNormSpace

TINY = "user_evonorm_nets:tiny_net"


def write_images(path, count=60, dtype=np.uint8, split=False):
    """Random 6x6 RGB images labelled by brightness (learnable), as a user would save them."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(count, 6, 6, 3)).astype(dtype)
    y = (x[..., 0].astype(float).mean(axis=(1, 2)) > 127).astype(np.int64)
    if split:
        np.savez(path, train_x=x[:40], train_y=y[:40], valid_x=x[40:], valid_y=y[40:])
    else:
        np.savez(path, x=x, y=y)
    return str(path)


# -- data -------------------------------------------------------------------------------------
def test_npz_images_are_split_scaled_and_standardized(tmp_path):
    data = training.npz_dataset(write_images(tmp_path / "a.npz"))
    assert data.input_shape == (6, 6, 3) and data.classes == 2
    assert (len(data.train_y), len(data.valid_y)) == (40, 20)  # two thirds / one third
    assert data.train_x.dtype == np.float32
    assert np.allclose(data.train_x.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    given = training.npz_dataset(write_images(tmp_path / "b.npz", split=True))
    assert (len(given.train_y), len(given.valid_y)) == (40, 20)
    floats = training.npz_dataset(write_images(tmp_path / "c.npz", dtype=np.float64))
    assert floats.input_shape == (6, 6, 3)
    assert training.load_dataset("digits") is training.digits()  # the built-in, one path


def test_a_rewritten_npz_file_is_read_again(tmp_path):
    """The cache key holds the file's digest: a process that already read the file (a
    notebook, a reused worker) must train on the new images, not on what it kept."""
    path = write_images(tmp_path / "d.npz")
    first = training.npz_dataset(path)
    assert training.npz_dataset(path) is first  # unchanged: read once
    np.savez(path, x=np.zeros((30, 4, 4, 1), np.uint8), y=np.arange(30) % 3)
    second = training.npz_dataset(path)
    assert second.input_shape == (4, 4, 1) and second.classes == 3


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x": np.zeros((5, 6, 6)), "y": np.zeros(5, int)}, "images must be NHWC"),
    ({"x": np.zeros((5, 2, 2, 1)), "y": np.zeros(4, int)}, "labels must be 5 integers >= 0"),
    ({"x": np.zeros((5, 2, 2, 1)), "y": np.zeros(5)}, "labels must be 5 integers >= 0"),
    ({"images": np.zeros((5, 2, 2, 1))}, "needs arrays train_x, train_y, valid_x, valid_y, "
                                         "or x and y; has images"),
    ({"x": np.array([["a"]]), "y": np.zeros(1, int)}, "images must be NHWC"),
])
def test_bad_npz_files_are_one_line(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError) as caught:
        training.npz_dataset(str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)


# -- settings, the cache key ------------------------------------------------------------------
def test_user_networks_and_a_dataset_file_in_the_settings(tmp_path):
    path = write_images(tmp_path / "a.npz")
    space = EvoNormSpace({"architectures": [TINY, "resnet"], "dataset": {"npz": path}})
    assert [o.name for o in space.objectives] == ["accuracy_user_evonorm_nets.tiny_net",
                                                  "accuracy_resnet"]
    assert space.settings.model_dump(mode="json")["dataset"] == {"npz": path}
    refs = space.plugins()
    assert refs["architectures[0]"].identity == TINY and refs["architectures[0]"].version == "1"
    assert refs["dataset"].identity == f"npz:{path}" and len(refs["dataset"].version) == 16
    before = space.settings_hash()
    write_images(tmp_path / "a.npz", count=61)  # other images at the same path: another key
    assert space.plugins()["dataset"].version != refs["dataset"].version
    assert EvoNormSpace({"architectures": [TINY, "resnet"],
                         "dataset": {"npz": path}}).settings_hash() != before


def test_built_in_settings_keep_their_key():
    default = EvoNormSpace()
    assert "plugins" not in default.evaluation_settings()
    assert "dataset" not in default.evaluation_settings()["settings"]
    assert EvoNormSpace({"dataset": "digits"}).settings_hash() == default.settings_hash()


def test_a_passed_network_function_is_recorded_by_its_import_string():
    passed = EvoNormSpace({"architectures": [user_evonorm_nets.tiny_net]})
    assert passed.settings.architectures == (TINY,)
    assert models.get_architecture(TINY) is models.get_architecture(TINY)
    assert isinstance(models.get_architecture(TINY), Architecture)


@pytest.mark.parametrize(("settings", "message"), [
    ({"architectures": ["user_evonorm_nets.tiny_net"]}, "unknown architecture(s) "
                                                        "user_evonorm_nets.tiny_net"),
    ({"architectures": [TINY, TINY]}, "architecture 'user_evonorm_nets.tiny_net' is named "
                                      "twice"),
    ({"dataset": "cifar100"}, "dataset: unknown dataset 'cifar100'; allowed: digits, "
                              "{npz: path} or {cifar10: directory}"),
    ({"dataset": {"npz": "a.npz", "cifar10": "b"}}, "dataset: expected {npz: path} or "
                                                    "{cifar10: directory}, got"),
    ({"dataset": {"csv": "a.csv"}}, "dataset: expected {npz: path} or {cifar10: directory}"),
])
def test_malformed_settings_are_refused_in_one_line(settings, message):
    with pytest.raises(ValueError) as caught:
        EvoNormSpace(settings)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("settings", "field", "message"), [
    ({"architectures": ["nowhere_nets:make"]}, "architectures",
     "'nowhere_nets:make': module 'nowhere_nets' not found"),
    ({"architectures": ["user_evonorm_nets:returns_function"]}, "architectures",
     "'user_evonorm_nets:returns_function': returned function, not a "
     "search_spaces.evonorm.Architecture"),
    ({"architectures": ["user_evonorm_nets:no_head"]}, "architectures",
     "must end with ops.dense('head', ..., classes)"),
    ({"architectures": ["user_evonorm_nets:no_site"]}, "architectures",
     "no ops.norm_act site"),
    ({"dataset": {"npz": "missing.npz"}}, "dataset", "dataset file not found: missing.npz"),
])
def test_a_campaign_config_checks_networks_and_data(settings, field, message):
    config = {"space": {"name": "evonorm", "settings": settings}}
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(config, "mine")
    assert str(caught.value).startswith(f"mine: space.settings.{field}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


# -- end to end (trains) ----------------------------------------------------------------------
@pytest.mark.slow
def test_a_short_campaign_on_a_user_network_and_dataset(tmp_path):
    """6 evaluations of the tiny user network on the user's images, then BN-ReLU evaluated
    alike: finite accuracies under the user's objective name."""
    path = write_images(tmp_path / "a.npz")
    settings = {"architectures": [TINY], "dataset": {"npz": path}, "steps": 20}
    config = {"space": {"name": "evonorm", "settings": settings},
              "evolution": {"population_size": 4}, "budget": {"max_evaluations": 6},
              "executor": {"batch_size": 8}}
    run = automl.run(config, db=f"sqlite:///{tmp_path / 'e.db'}", progress=False)
    assert run.summary.evaluations == 6
    with run.results() as results:
        front = results.pareto(run.name)
    assert front and 0.0 <= front[0].objectives["accuracy_user_evonorm_nets.tiny_net"] <= 1.0
    space = EvoNormSpace(settings)
    (evaluation,) = space.evaluate([space.parse(BASELINES["bn_relu"])])
    assert evaluation.ok and evaluation.metrics["diverged"] == []
