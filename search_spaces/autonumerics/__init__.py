"""Function approximation (AutoNumerics-Zero): evolve cheap, accurate programs for 2^x etc."""

from search_spaces.autonumerics.space import AutoNumericsSettings, AutoNumericsSpace

__all__ = ["AutoNumericsSettings", "AutoNumericsSpace"]
