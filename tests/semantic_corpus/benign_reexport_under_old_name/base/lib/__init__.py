"""The public face of the library."""
from .core import load_config
