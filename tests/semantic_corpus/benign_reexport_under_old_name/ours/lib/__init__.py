"""The public face of the library."""
from .core import read_config as load_config
