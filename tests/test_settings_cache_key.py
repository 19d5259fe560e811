"""Which settings enter the cache key: the declarations of `automl.space` (`key_setting`,
`other_setting`, `key_setting_unless_default`), and the settings hashes of the shipped spaces
pinned as literals.

The hashes were computed before the declarations replaced each space's hand-written
`evaluation_settings` (lists of keys popped from the dumped settings), so these tests prove
that no cache key moved: a campaign's stored cache entries stay valid. A hash here may change
only with a deliberate change of what a space's evaluation depends on (e.g. its
`evaluator_version`), never as a side effect.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic
import pytest

from automl.plugins import get_space
from automl.space import (
    SpaceSettings,
    cache_key_role,
    cache_key_settings,
    key_setting,
    key_setting_unless_default,
    other_setting,
)

AUTONUMERICS_DEFAULT = "78dc3eb6b56d2d51aeecedf945f82100"
# evaluator version 6 (minibatch tasks and warmup-cosine by default) moved every optimizers
# hash (before it the default was 78fdf54bd42d09639b9bdb6bbadcffc4), and so did the version of
# the data's generator in the key (`data_sources`, below at a fixed version)
OPTIMIZERS_DEFAULT = "95fed7582435be75b9e952c4be069a16"
PINNED_MNIST1D_VERSION = "0.0.2.post1"


@pytest.fixture(autouse=True)
def fixed_data_versions(monkeypatch):
    """The installed `mnist1d` is in the optimizers' key: the pins hold it fixed."""
    monkeypatch.setattr("search_spaces.optimizers.tasks._package_version",
                        lambda package: PINNED_MNIST1D_VERSION)
EVONORM_DEFAULT = "75c1f4c79c2ce06d2b1eb08704d18226"

PINNED: list[tuple[str, dict[str, Any], str]] = [
    ("autonumerics", {}, AUTONUMERICS_DEFAULT),
    # with fma in the ops the key says fma rounds once (it was e0a612d7..., rounded twice)
    ("autonumerics", {"target": "exp2", "ops": ["add", "mul", "fma"], "fit_restarts": 4,
                      "precision": "float32"}, "edf4c94b63a6c59aebfb3dcf9e50f644"),
    # hashing, generation and mutation settings are out of its key
    ("autonumerics", {"mantissa_bits": 30, "probe_points": 8, "max_statements": 12,
                      "initial_statements": 3, "new_constant_probability": 0.5,
                      "grow_constant_weight": 1.0}, AUTONUMERICS_DEFAULT),
    ("autonumerics", {"grid_points": 512, "fit_solver": "trf", "fit_method": "cma",
                      "constants_seed": 3, "inherit_constants": False, "fit_constants": False,
                      "fit_max_evaluations": 100}, "a33892a1616ce7359f0a53ac03a3333e"),
    # a cap on the fit's least squares stage is in the key; at its default it leaves it as it was
    ("autonumerics", {"fit_least_squares_evaluations": None}, AUTONUMERICS_DEFAULT),
    ("autonumerics", {"fit_least_squares_evaluations": 20}, "5ec79b450e61b50e0112b061b36d7c96"),
    ("autonumerics", {"precision": "float32", "float32_check_points": 1024,
                      "float32_check_uniform": 0, "timing_points": 100, "timing_repeats": 3,
                      "float32_refine_rounds": 0, "float32_refine_below_ulp": 8.0},
     "d715326b73c40a4f40dd8c70bc4a0c1b"),
    ("optimizers", {}, OPTIMIZERS_DEFAULT),
    ("optimizers", {"weight_decays": [0, 0.1], "lr_schedule": "cosine"},
     "414c91dd69452f0324a4ed7783c1bd5b"),
    ("optimizers", {"tasks": ["logreg_digits"]}, "c31d45096e91505213421b2bea3487aa"),
    ("optimizers", {"weight_decays": [0.0]}, "e536e5c74e7ccbe1ba7195c260c48fe6"),
    ("optimizers", {"lr_schedule": "cosine"}, "26ce64d7eb404999f063812012de806c"),
    # at their defaults, the two later settings leave the key as it was before them
    ("optimizers", {"weight_decays": None, "lr_schedule": "warmup_cosine"}, OPTIMIZERS_DEFAULT),
    ("optimizers", {"lr_schedule": "constant"}, "251fc12dc193844c02b00830f7d0ed3d"),
    ("optimizers", {"reference_b1s": [0.9]}, OPTIMIZERS_DEFAULT),  # its default: as before it
    ("optimizers", {"reference_b1s": [0.65, 0.8, 0.9]}, "8c1394ad67e354be8604ad3cbb1d3f63"),
    ("optimizers", {"mantissa_bits": 30}, "5503b29121cfa8a85d2069c39b5e1735"),  # in its key
    ("optimizers", {"program_batching": "map"}, OPTIMIZERS_DEFAULT),
    ("optimizers", {"program_batching": "vmap", "max_statements": 10, "max_constants": 4},
     "6432e48fa5595cecb7d211a374fea23d"),
    ("optimizers", {"hash_steps": 2, "init_seed": 1, "funnel_gates_score": False,
                    "score": "geometric_mean", "reference_weight_decays": [0.0],
                    "learning_rates": [0.001], "funnel_tasks": []},
     "82e4fabd33816b97254583c84501c54f"),
    ("evonorm", {}, EVONORM_DEFAULT),
    ("evonorm", {"steps": 100, "learning_rate": 0.1, "optimizer": "adam", "seed": 3},
     "ccb96d251cf3bfa3ac8b34c4627c295e"),
    ("evonorm", {"max_nodes": 10, "max_initial_nodes": 3, "mantissa_bits": 30,
                 "program_batching": "map"}, EVONORM_DEFAULT),
    ("evonorm", {"architectures": ["resnet"], "quality_check": True, "stability_check": True,
                 "groups": 2, "batch_size": 8}, "0e76d58d9b0f23e9842c8f63c6292674"),
]


@pytest.mark.parametrize(("space", "settings", "expected"), PINNED,
                         ids=[f"{space}-{i}" for i, (space, _, _) in enumerate(PINNED)])
def test_settings_hashes_did_not_move(space: str, settings: dict[str, Any], expected: str):
    assert get_space(space, settings).settings_hash() == expected


class Example(SpaceSettings):
    mantissa_bits: int = other_setting(24, ge=1, le=52)  # re-declared out of the key
    rate: float = key_setting(0.1, gt=0)
    workers: int = other_setting(4, ge=1)
    schedule: Literal["constant", "cosine"] = key_setting_unless_default("constant")
    decays: tuple[float, ...] | None = key_setting_unless_default(None)
    undeclared: int = 0


def test_declarations_decide_the_key():
    assert cache_key_settings(Example()) == {"rate": 0.1, "undeclared": 0}
    changed = Example(mantissa_bits=30, rate=0.2, workers=8, schedule="cosine", decays=(0.0,),
                      undeclared=1)
    assert cache_key_settings(changed) == {"rate": 0.2, "schedule": "cosine", "decays": [0.0],
                                           "undeclared": 1}
    # explicitly at the default is at the default
    assert cache_key_settings(Example(schedule="constant", decays=None)) == cache_key_settings(
        Example())


def test_declarations_keep_pydantic_options():
    fields = Example.model_fields
    assert [cache_key_role(fields[name]) for name in fields] == [
        False, True, False, "unless_default", "unless_default", None]
    with pytest.raises(pydantic.ValidationError):
        Example(rate=0.0)
    with pytest.raises(pydantic.ValidationError):
        Example(mantissa_bits=60)
    assert SpaceSettings.model_fields["mantissa_bits"].json_schema_extra == {"cache_key": True}
    merged = key_setting(1, json_schema_extra={"unit": "s"}, description="seconds")
    assert merged.json_schema_extra == {"unit": "s", "cache_key": True}
    assert merged.description == "seconds"


def test_the_data_generator_joins_the_key_only_for_tasks_on_its_data(monkeypatch):
    """A result computed on MNIST-1D made by another `mnist1d`, or on the pydoc text of
    another Python, is never reused; tasks on other data keep their keys."""
    import platform

    before = {name: get_space("optimizers", {"tasks": [name], "funnel_tasks": []}
                              ).settings_hash()
              for name in ("mlp_mnist1d", "char_lm", "logreg_digits")}
    monkeypatch.setattr("search_spaces.optimizers.tasks._package_version",
                        lambda package: "9.9")
    monkeypatch.setattr(platform, "python_version", lambda: "3.99.0")
    after = {name: get_space("optimizers", {"tasks": [name], "funnel_tasks": []}
                             ).settings_hash()
             for name in before}
    assert after["mlp_mnist1d"] != before["mlp_mnist1d"]
    assert after["char_lm"] != before["char_lm"]
    assert after["logreg_digits"] == before["logreg_digits"]
