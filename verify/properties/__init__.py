"""The property suite of `specbias verify`: the engine (registry and runner) and the definitions,
which register on import, in this order (the suite runs and lists them in it).

    from verify.properties.engine import run_suite, run_property, applicable
    run_suite(["linear"], profile="ci", only=["derivation"])
"""
# isort: skip_file
from verify.properties import architectures  # noqa: F401  (every registered architecture)
from verify.properties import spiked  # noqa: F401  (Weitzner et al.: the spiked-model and chain properties)
from verify.properties import localconv  # noqa: F401  (the 2-D local-architecture properties)
