"""The eigen-mix of the coupled convolutions (patch_conv, conv2d, local2d) in memory linear in
modes × times, and `specbias bench theory` through the same code path (issue 20).

conv2d's default bench spectrum (3844 Fourier modes) made theory.emergence_time evaluate every mode at
all 3844 × 400 scan times at once: a (1,537,600 × 3,844) float64 array, out of memory on 23 GB. The
search now gives each mode its own times in one call (`times_per_mode`), and the mix sums one patch
eigenmode at a time. Known answers here are the old layout's own values (the read-off path, kept for
coupled architectures without `times_per_mode`), which must agree bit for bit."""
import tracemalloc

import numpy as np
import pytest

import theory
from theory import emergence as E
from verify.cli import main

COUPLED = [name for name in theory.available() if theory.get(name).coupled]
GRID = 400  # emergence_time's default scan


def _rows(arch, n_var):
    spec = arch.as_spectrum(np.geomspace(1e-3, 1e2, n_var))
    return spec, spec[None, :], np.full((1, spec.size), 0.1)


@pytest.mark.parametrize("name", COUPLED)
def test_modes_at_their_own_times_equal_the_read_off_grid_bit_for_bit(name):
    arch = theory.get(name)
    assert arch.times_per_mode  # every built-in coupled architecture is an eigen-mix
    spec, lam_r, q_r = _rows(arch, 3)
    n, T = spec.size, 3
    rng = np.random.default_rng(1)
    tau = np.exp(rng.uniform(np.log(1e-4), np.log(1e3), (1, n, T)))  # every mode its own, unsorted times
    own = E._log_var_rows(arch, lam_r, q_r, tau, 1.0, 0.002, 80.0, {})
    assert own.shape == (1, n, T) and np.isfinite(own).all()
    for chunk in (1, 2 * n + 1, n * T, None):  # read off a (times, spectrum) grid, chunked or whole
        assert np.array_equal(own, E._read_off(arch, lam_r, q_r, tau, 1.0, 0.002, 80.0, {}, chunk=chunk))


def test_the_eigen_mix_equals_an_independent_einsum():
    """Σ_j c_jk f(ν_j) accumulated one j at a time equals the einsum over the stacked terms (≤ 4 ulp)."""
    from theory.archs.linear import ARCH as LINEAR
    from theory.archs.patch_conv import ARCH as PC

    spec = PC.as_spectrum(np.geomspace(1e-2, 10.0, 6))
    tau = np.geomspace(1e-3, 1e2, 9)[:, None]
    n, nu, mix = PC.spectral(spec, 5)
    per_mode = LINEAR._log_variance(nu[:, None, None], tau[None], 0.1, n * 1.0, 0.002, 80.0)  # (J, T, 1)
    want = np.einsum("jk,jtk->tk", mix, np.broadcast_to(per_mode, (len(nu),) + (tau.size, spec.size)))
    got = PC.log_generated_variance(spec[None, :], tau, K=5)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", ["patch_conv", "conv2d"])
def test_emergence_search_memory_is_linear_in_modes_times_scan(name):
    """Peak numpy memory of the search ≤ 64 arrays of modes × 400 scan times (the read-off layout
    needed modes × 400 × modes × J: 118 MB for conv2d's 64 modes here, 44 GiB at the bench default)."""
    arch = theory.get(name)
    spec = arch.as_spectrum(np.geomspace(1e-3, 1e2, 5 if name == "conv2d" else 32))
    theory.emergence_time(arch, spec)  # the decomposition is cached: measure the search itself
    tracemalloc.start()
    try:
        ts = theory.emergence_time(arch, spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(ts).any()
    assert peak < 64 * 8 * spec.size * GRID, (peak, spec.size)


def test_bench_theory_reduced_runs_every_architecture_and_reports_time_per_mode_time(capsys, monkeypatch):
    """`specbias bench theory` through cmd_bench → bench_theory (the defaults' code path) at 3 modes × 4
    times: every registered architecture gets a row and a printed line with its s per 1e6 mode-times."""
    import json

    from verify.cli import bench

    assert main(["bench", "theory", "--modes", "3", "--times", "4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["arch"] for r in rows] == theory.available()
    for r in rows:
        coupled = theory.get(r["arch"]).coupled
        assert r["modes"] == (theory.get(r["arch"]).as_spectrum(np.ones(3)).size if coupled else 3)
        assert r["grid_s_per_mega"] == pytest.approx(r["generated_variance_s"] / (r["modes"] * 4) * 1e6)
        assert r["emergence_s_per_mega"] == pytest.approx(r["emergence_s"] / (r["modes"] * 456) * 1e6)
    monkeypatch.setattr(bench, "bench_theory", lambda modes, times: rows)  # the text view of the same rows
    assert main(["bench", "theory", "--modes", "3", "--times", "4"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "generated variance" in line]
    assert [line.split(":")[0].strip() for line in lines] == theory.available()
    for line, r in zip(lines, rows):
        assert f"({r['grid_s_per_mega']:.3f} s per 1e6 mode-times)" in line
        assert f"({r['emergence_s_per_mega']:.3f} s per 1e6 mode-times)" in line
