"""The report and the CLI say what they mean (issue 8, §5)."""
import numpy as np
import pytest
import sympy as sp

import theory
from theory import symbols as S
from verify.cli import main
from verify.departure import classify


def test_slower_is_called_slower():
    """τ*_linear / τ* = 0.569: modes emerge 1/0.569 = 1.76× slower, never "0.569× faster"."""
    lam = np.geomspace(1e-2, 1e2, 12)
    ref = {"geometric": 1.0 / lam}
    slow = classify("two_layer", {"geometric": ref["geometric"] / 0.569}, lam, 1e-4, lam, lam, 0.1, ref)
    assert slow.constant_ratio == pytest.approx(0.569)
    assert "1.76× slower" in slow.reason and "faster" not in slow.reason
    fast = classify("circulant", {"geometric": ref["geometric"] / 24}, lam, 1e-4, lam, lam, 0.1, ref)
    assert "24× faster" in fast.reason


@pytest.mark.parametrize("name", [a for a in theory.available() if not theory.get(a).coupled])
def test_optimum_log_variance_takes_arrays(name):
    arch = theory.get(name)
    lam = np.geomspace(1e-3, 1e2, 6)
    got = arch.optimum_log_variance(lam, 0.002, 80.0)
    assert got.shape == lam.shape
    np.testing.assert_allclose(got, arch.log_generated_variance(lam, 1e12), rtol=1e-7, atol=1e-9)
    assert isinstance(arch.optimum_log_variance(S.lam, S.sigma0, S.sigmaT), sp.Expr)
    with pytest.raises(theory.SpecbiasError):
        arch.optimum_log_variance(np.array([-1.0]))


def test_patch_conv_input_is_the_fourier_spectrum(capsys):
    assert main(["theory", "patch_conv"]) == 0  # the default variances, mirrored into one spectrum
    out = capsys.readouterr().out
    assert "input lam: the Fourier spectrum" in out and "Fourier-mode variances" in out
    assert "lam ≡ its eigenvalue" not in out
