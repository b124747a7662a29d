"""Built-in architectures; each module registers itself on import (order = listing order)."""
from . import linear  # noqa: F401
from . import linear_mean  # noqa: F401
from . import circulant  # noqa: F401
from . import patch_conv  # noqa: F401
from . import conv2d  # noqa: F401
from . import local2d  # noqa: F401
from . import flow_matching  # noqa: F401
from . import sym_two_layer  # noqa: F401
from . import two_layer  # noqa: F401
from . import deep_linear  # noqa: F401
