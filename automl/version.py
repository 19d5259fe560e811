"""The release, in a module that imports nothing: the package's ``__init__`` re-exports it as
``automl.__version__`` and the controller stamps it on every campaign it creates (so the
controller need not import the package's ``__init__``, which imports ``automl.api`` in
``automl.run``). pyproject.toml's version must match."""

__version__ = "0.2.0"
