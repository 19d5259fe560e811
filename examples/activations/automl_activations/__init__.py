"""Activation functions as programs of x (Ramachandran, Zoph & Le 2017): a search space
written against automl-evolution's public API only, registered by this package's entry point."""

from automl_activations.space import ActivationsSpace as ActivationsSpace
