"""Built-in architectures; each module registers itself on import (order = listing order)."""
from . import linear  # noqa: F401
