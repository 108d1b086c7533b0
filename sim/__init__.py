"""placesim: an agent-based model of a place's public services as a system (silo vs whole-system working)."""

from .model import PlaceModel
from .params import ParamError, Params, validate

__all__ = ["ParamError", "Params", "PlaceModel", "validate"]
__version__ = "0.1.0"
