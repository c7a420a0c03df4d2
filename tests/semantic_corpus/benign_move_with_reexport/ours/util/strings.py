"""String helpers (moved to util.text)."""
from util.text import slug  # noqa: F401
