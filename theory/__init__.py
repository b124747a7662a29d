"""specbias theory: closed forms for the learning dynamics of linear diffusion models, derived in sympy.

    import theory
    theory.available()
    arch = theory.get("linear")
    arch.weight(lam, sigma, tau, Q=0.1)
    arch.generated_variance(lam, tau, Q=0.1)            # float64
    arch.generated_variance(lam, tau, Q=0.1, dps=50)    # mpmath reference
    theory.emergence_time("linear", lam, criterion="geometric")
    theory.fit_exponent(lam, tau_star, v0)
    theory.kl(lam, lam_tilde, direction="both")
"""
from .arch import Architecture, Law
from .emergence import emergence_time, threshold
from .errors import SpecbiasError
from .fit import fit_exponent
from .kl import kl
from .labelled import Emergence, emergence_table, trajectory
from .registry import available, get, load_module, register, unregister

__all__ = ["Architecture", "Law", "SpecbiasError", "available", "get", "register", "unregister",
           "load_module", "emergence_time", "threshold", "fit_exponent", "kl", "trajectory", "emergence_table",
           "Emergence"]
