"""The computations behind `specbias report --preset spiked` (Weitzner et al., arXiv 2410.14730), one
function per section.

Each returns plain arrays and JSON-able tables; figures and text are in verify.spiked.report and
verify.spiked.figures.
"""
from __future__ import annotations

import numpy as np
import torch

import theory
from theory.spiked import chains as CH
from theory.spiked import covariance as SP
from theory.spiked import finite_sample as FS
from verify.spiked.checks import compare, finite_size, size

LAM_CLOCKS = np.array([10, 3, 1, 0.3, 0.1, 0.03, 0.01, 0.001])  # theory.md §6
REL_NOISE = np.geomspace(0.08, 6.0, 9)  # s²/s_c² of the simulated points


def overlap_curves(seed: int, d: int = 400, gammas=(0.5, 1.0, 2.0), draws: int = 16) -> dict:
    """α²(s²) and μ̂(s²): Monte Carlo points and the limit curves for several γ (rank 1) and rank 2."""
    from numerics.spiked import simulate as spiked

    out = {"d": d, "curves": [], "rows": []}
    setups = [(g, [1.0]) for g in gammas] + [(1.0, [4.0, 1.0])]
    for g, lam in setups:
        n = int(round(d / g))
        gam = SP.aspect_ratio(d, n)
        s2 = SP.critical_noise(min(lam), gam) * REL_NOISE
        mc = spiked.monte_carlo(d, n, lam, s2, draws=draws, seed=seed)
        a = compare(mc)
        dense = np.geomspace(s2[0] / 3, s2[-1] * 3, 200)
        out["curves"].append({"gamma": gam, "n": n, "lam": np.array(lam), "s2": s2, "dense": dense,
                              "overlap_mc": mc.mean("overlap2"), "overlap_se": mc.stderr("overlap2"),
                              "top_mc": mc.mean("top_eigenvalue"), "top_se": mc.stderr("top_eigenvalue"),
                              "overlap_th": SP.overlap2(np.array(lam)[None, :], dense[:, None], gam),
                              "top_th": SP.top_eigenvalue(np.array(lam)[None, :], dense[:, None], gam),
                              "in_window": ~SP.outside_window(np.array(lam)[None, :], s2[:, None], gam)})
        out["rows"].append(dict(a.summary(), rank=len(lam)))
    return out


def size_table(seed: int, sizes=(200, 500, 1000), draws: int = 16) -> dict:
    """Agreement at d = 200, 500, 1000 (γ = 1, λ = 1) away from the threshold, errors against the
    finite-size rows (which shrink with d), and the M-draws check (γ_eff = d/(nM) vs the wrong d/n)."""
    from numerics.spiked import simulate as spiked

    rows, errs = [], {}
    rel = np.array([0.15, 0.4, 2.5, 5.0])
    for d in sizes:
        mc = spiked.monte_carlo(d, d, [1.0], SP.critical_noise(1.0, 1.0) * rel, draws=draws, seed=seed + d)
        a = compare(mc)
        ov = [r for r in a.rows if r.quantity == "overlap2"]
        top = [r for r in a.rows if r.quantity == "top_eigenvalue"]
        errs[d] = {"overlap": max(r.error for r in ov), "top": max(r.error for r in top)}
        rows.append({"d": d, "n": d, "M": 1, "gamma": 1.0, "ok": a.ok,
                     "overlap_error_max": errs[d]["overlap"], "overlap_finite_size": finite_size("overlap", d).abs,
                     "top_rel_error_max": errs[d]["top"], "top_finite_size": finite_size("top-eigenvalue", d).rel,
                     "overlap_se_max": float(mc.stderr("overlap2").max()), "compared": len(a.rows)})
    d, n, M = 400, 100, 4
    mc = spiked.monte_carlo(d, n, [1.0], SP.critical_noise(1.0, 1.0) * rel, M=M, draws=draws, seed=seed + 7)
    m_draws = {"d": d, "n": n, "M": M, "gamma_eff": mc.gamma, "ok_with_gamma_eff": compare(mc).ok,
               "ok_with_d_over_n": compare(mc, gamma=d / n).ok, "size": size(d, n, M)}
    return {"rows": rows, "m_draws": m_draws}


def jacobian_section(seed: int, d: int = 400, n: int = 400, lam=(4.0, 1.0)) -> dict:
    """Jacobian–PC alignment vs σ² of the noisy-PCA denoiser (one training set) and of the finite-sample
    Wiener filter (the M = ∞ trained endpoint), against α²(s²)."""
    from numerics.spiked import jacobian
    from numerics.spiked.dynamics import wiener_denoiser
    from numerics.spiked.simulate import clean_samples

    gen = torch.Generator().manual_seed(int(seed))
    X = clean_samples(1, n, d, torch.tensor(lam, dtype=torch.float64), gen)[0].numpy()
    g = d / n
    s2 = SP.critical_noise(min(lam), g) * np.geomspace(0.05, 8.0, 12)
    U = np.eye(d)[:, :len(lam)]
    noisy = jacobian.alignment(jacobian.noisy_pca_denoiser(X, len(lam), seed=seed), U, np.sqrt(s2))
    wien = jacobian.alignment(wiener_denoiser(X.T @ X / n), U, np.sqrt(s2))
    dense = np.geomspace(s2[0], s2[-1], 200)
    return {"d": d, "n": n, "gamma": g, "lam": np.array(lam), "s2": s2, "noisy": noisy.aligned,
            "wiener": wien.aligned, "chi_noisy": noisy.chi, "dense": dense,
            "theory": SP.overlap2(np.array(lam)[None, :], dense[:, None], g)}


def fixation_section(seed: int, steps: int = 256) -> dict:
    """Fixation noise along Heun trajectories of the Wiener filter of three data sets' covariances."""
    from numerics import data
    from numerics.spiked.dynamics import fixation, wiener_denoiser

    sets = {"gaussian 1/k² (d=32)": data.gaussian(32, "powerlaw", beta=2.0, seed=seed),
            "sklearn digits (d=64)": data.digits(), "camera patches 8×8 (d=64)": data.patches(P=8, seed=seed)}
    out = {}
    for name, ds in sets.items():
        keep = ds.lam > 1e-5 * ds.lam[0]  # numerically empty directions carry no fixation
        f = fixation(wiener_denoiser(ds.cov), ds.U[:, keep], steps=steps, n_samples=64, seed=seed)
        pred = CH.fixation_noise(ds.lam[keep])
        out[name] = {"lam": ds.lam[keep], "measured": f.s2_fix, "theory": pred,
                     "ratio_min": float(np.nanmin(f.s2_fix / pred)), "ratio_max": float(np.nanmax(f.s2_fix / pred))}
    return out


def chains_section(seed: int, d: int = 32, n: int = 64, S2: float = 1.0) -> dict:
    """The three chains (and the noisy one) built from a finite-sample Wiener filter Ŝ(Ŝ + s²I)⁻¹."""
    from numerics.spiked.dynamics import learned_chains
    from numerics.spiked.simulate import spiked_data

    ds = spiked_data(d, [4.0, 2.0, 1.0], bulk=0.05, seed=seed)
    X = ds.sample(n, torch.Generator().manual_seed(int(seed))).numpy()
    S = X.T @ X / n
    mu, V = np.linalg.eigh(S)
    mu, V = mu[::-1].copy(), V[:, ::-1].copy()
    eye = np.eye(d)
    Ts = 2 ** np.arange(3, 11)
    ch = learned_chains(lambda s2: np.linalg.solve(S + s2 * eye, S), V, S2, Ts, seed=seed)
    T_noisy = 256
    sim = _noisy_chain(S, S2, T_noisy, seed) if d <= 64 else None
    return {"d": d, "n": n, "S2": S2, "mu": mu, "lam": ds.lam, "T": Ts, "log_r1": ch.log_r1, "log_r2": ch.log_r2,
            "log_pf": ch.log_pf, "overlap_r2": ch.overlap_r2, "overlap_pf": ch.overlap_pf,
            "kappa_plugin": float(CH.kappa(mu[0], mu[1], S2)), "kappa_population": float(CH.kappa(4.0, 2.0, S2)),
            "kappa_measured": float(-np.polyfit(Ts[-4:], ch.log_r2[-4:, 1] - ch.log_r2[-4:, 0], 1)[0]),
            "top_overlap_with_truth": float((V[:, 0] @ ds.U[:, 0]) ** 2),
            "T_noisy": T_noisy, "noisy_theory": CH.noisy_chain_variance(mu, S2, T_noisy),
            "noisy_asymptotic": CH.noisy_chain_asymptotic(mu, S2, T_noisy),
            "noisy_measured": None if sim is None else np.einsum("ij,jk,ki->i", V.T, sim, V)}


def _noisy_chain(S, S2, T, seed, samples: int = 4000) -> np.ndarray:
    """Covariance of the noisy R2 chain x ← W_t x + σξ (σ² = S²/T) simulated from x_T ~ N(0, S² I)."""
    gen = torch.Generator().manual_seed(int(seed) + 11)
    d = S.shape[0]
    St = torch.as_tensor(S)
    x = S2**0.5 * torch.randn(samples, d, generator=gen, dtype=torch.float64)
    for t in range(T, 0, -1):
        W = torch.linalg.solve(St + (t * S2 / T) * torch.eye(d, dtype=torch.float64), St)  # (S + s²)⁻¹S = Wᵀ
        x = x @ W + (S2 / T) ** 0.5 * torch.randn(samples, d, generator=gen, dtype=torch.float64)
    return (x.T @ x / samples).numpy()


def clocks_section(fix: dict, gammas=(0.25, 1.0, 4.0)) -> dict:
    """τ* (training), s_c² (learnability, per γ) and s_fix² (sampling) against λ."""
    lam = LAM_CLOCKS
    tau = theory.emergence_time("linear", lam, criterion="geometric", Q=0.1)
    gauss = next(iter(fix.values()))
    return {"lam": lam, "tau_star": tau, "s2_c": {g: SP.critical_noise(lam, g) for g in gammas},
            "s2_fix": CH.fixation_noise(lam), "fix_lam_meas": gauss["lam"], "fix_meas": gauss["measured"]}


def kl_section(seed: int, d: int = 16, ns=(32, 64, 128, 512), draws: int = 8) -> dict:
    """KL(n, τ) of the finite-sample generated law to the data law and to the training-set Gaussian."""
    lam = theory.get("linear").as_spectrum(np.sort(np.exp(np.random.default_rng(seed).standard_normal(d)))[::-1])
    lam = lam / lam.mean()
    Sigma = np.diag(lam)
    taus = np.geomspace(1e-2, 1e3, 16)
    rng = np.random.default_rng(seed + 3)
    res = {"lam": lam, "tau": taus, "n": list(ns), "data": [], "train": [], "endpoint": [], "endpoint_mc": [],
           "endpoint_se": []}
    for n in ns:
        vals = [FS.finite_sample_kl(rng.standard_normal((n, d)) * np.sqrt(lam), Sigma, taus) for _ in range(draws)]
        data_kl = np.array([v["generated||data"] for v in vals])
        res["data"].append(data_kl.mean(0))
        res["train"].append(np.array([v["generated||train"] for v in vals]).mean(0))
        res["endpoint"].append(FS.expected_endpoint_kl(d, n)["generated||data"])
        res["endpoint_mc"].append(float(data_kl[:, -1].mean()))
        res["endpoint_se"].append(float(data_kl[:, -1].std(ddof=1) / np.sqrt(draws)))
    return res
