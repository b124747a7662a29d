"""The report's "Local convolution" section: the paper's near-simultaneous emergence in convolutional
denoisers, measured with closed forms and exact propagators (cheap: a few seconds), see
verify.localconv.analysis for the models, bases and the derived mechanism.

    blocks, tables = section(out_dir)
"""
from __future__ import annotations

import numpy as np

import theory
from verify.departure import SIMULTANEOUS
from verify.localconv import analysis as L
from verify.localconv import figures as F
from verify.localconv import mechanism_report
from verify.report import document as doc

KERNELS = (1, 3, 5, 7)
#: the architectures the section compares; a report restricted (--arch) to none of them leaves it out
ARCHS = frozenset({"linear", "circulant", "conv2d", "local2d"})
DIGIT_BASES = ("pcs", "fourier", "patch")
MECHANISM_TESTS = ("tests/test_localconv_mechanism.py::test_weight_sharing_gives_near_simultaneous_emergence_on_images",
                   "tests/test_localconv_mechanism.py::test_without_weight_sharing_the_inverse_law_stays",
                   "tests/test_localconv_mechanism.py::test_stationary_images_show_no_simultaneity",
                   "tests/test_localconv_mechanism.py::test_simultaneity_tracks_the_compression_of_targets",
                   "tests/test_localconv_mechanism.py::test_locality_alone_compresses_when_pcs_are_spatially_extended")


def _cases():
    """(model, P, data label, basis) rows of the departure table."""
    rows = []
    for b in DIGIT_BASES:
        rows += [("linear", 0, "digits", b), ("circulant", 0, "digits", b)]
        rows += [("conv2d", P, "digits", b) for P in (KERNELS if b != "patch" else (3,))]
        rows += [("local2d", 3, "digits", b)]
    rows += [(n, P, "stationary 8×8", "pcs") for n, P in (("linear", 0), ("conv2d", 3), ("local2d", 3))]
    return rows


def compute():
    from numerics import data

    sets = {"digits": data.digits(), "stationary 8×8": data.stationary2d(8, beta=2.0)}
    meas = {}
    flags = []
    for name, P, label, b in _cases():
        ds = sets[label]
        m = meas.setdefault((label, b), L.measurement(ds, b))
        flags.append(((name, P), L.flag(name, ds, m, max(P, 1), label)))
    return sets, meas, flags


def _cell(fit) -> str:
    return "–" if fit.n < 3 else f"{fit.alpha:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}] (N={fit.n})"


def _model(name, P) -> str:
    return {"linear": "linear (dense)", "circulant": "circulant (full width)"}.get(name, f"{name} P={P}")


def _table(flags) -> list:
    rows = [["model", "data", "basis", "α all emerging", "α high-variance half", "S", "classification",
             "reasons"]]
    for (name, P), f in flags:
        rows.append([_model(name, P), f.dataset, f.basis, _cell(f.fits["geometric"]["increasing"]),
                     _cell(f.fits_high["geometric"]), f"{f.simultaneity:.2f}", f.classification,
                     "; ".join(f.reasons) or f.reason])
    return rows


def _fig14(ds, Ps=(3, 7)):
    """Linear form of the paper's Fig. 14: relative Frobenius distance of the 2-D linear model's W_σ(τ)
    (closed form on the data) from its best circular P × P convolution (tap δ = mean over positions of
    W[i, i + δ]; an orthogonal projection, so the error² is ‖W‖² − HW Σ_δ k_δ²)."""
    from theory.archs.conv2d import offsets

    sig, tau = np.geomspace(0.002, 80.0, 24), np.geomspace(1e-3, 1e3, 16)
    psi = theory.get("linear").weight(ds.lam, sig[:, None, None], tau[None, :, None], Q=0.1)
    W = np.einsum("ik,stk,jk->stij", ds.U, psi, ds.U)
    C, H, Wd = ds.shape
    ih, iw = np.divmod(np.arange(H * Wd), Wd)
    panels = []
    for P in Ps:
        d = offsets(P)
        j = ((ih[None, :] + d[:, :1]) % H) * Wd + (iw[None, :] + d[:, 1:]) % Wd  # (P², HW)
        taps = W[..., np.arange(H * Wd)[None, :], j].mean(-1)  # (σ, τ, P²)
        norm2 = np.sum(W**2, axis=(-2, -1))
        err = np.sqrt(np.maximum(norm2 - H * Wd * np.sum(taps**2, -1), 0) / norm2)
        panels.append({"title": f"digits: linear W vs best {P}×{P} convolution", "sigma": sig, "tau": tau,
                       "err": err})
    return panels


def _figures(out, sets, meas, flags) -> list:
    ds, m = sets["digits"], meas[("digits", "pcs")]
    by = {(k, f.dataset, f.basis): f for k, f in flags}
    blocks = []
    panels = []
    for b in ("pcs", "fourier"):
        series = [(_model(*k), f.lam, f.tau_star["geometric"]) for k, f in flags
                  if f.dataset == "digits" and f.basis == b]
        panels.append({"title": f"digits, basis: {b}", "series": series})
    F.tau_star_panels(out / "localconv_tau_star.png", panels)
    blocks.append(doc.figure("localconv_tau_star.png", "τ* against the data variance along each basis vector "
                             "(digits; geometric criterion, Q = 0.1): data PCs (left), real Fourier modes (right)."))
    groups = [f"{f.dataset[:10]} {f.basis}" for f in
              (by[(k, d, b)] for k, d, b in [(("conv2d", 3), "digits", x) for x in DIGIT_BASES]
               + [(("conv2d", 3), "stationary 8×8", "pcs")])]
    keys = [("digits", b) for b in DIGIT_BASES] + [("stationary 8×8", "pcs")]
    series = {_model(*k): [by[(k,) + key].simultaneity if (k,) + key in by else np.nan for key in keys]
              for k in [("linear", 0), ("circulant", 0), ("conv2d", 3), ("local2d", 3)]}
    F.bars(out / "localconv_controls.png", groups, series, "simultaneity index S",
           f"Controls side by side (S < {SIMULTANEOUS}: near-simultaneous)", SIMULTANEOUS)
    blocks.append(doc.figure("localconv_controls.png", "Simultaneity index S = std ln τ* / std ln λ of each "
                             "control per data set and basis (1: inverse law; 0: all modes at once)."))
    tau = np.geomspace(1e-4, 1e3, 60)
    hm = []
    for name in ("linear", "conv2d", "local2d"):
        t = tau if L.closed_form(theory.get(name)) else L.SAMPLED_TAU  # the propagator's grid: cached
        lt = L.trajectory(name, ds, m, 3, t)
        hm.append({"title": f"{_model(name, 3)} along digits PCs", "lam": m.target, "tau": t,
                   "ratio": (lt / m.target).T, "tau_star": by[((name, 3 if name != "linear" else 0),
                                                               "digits", "pcs")].tau_star["geometric"]})
    F.heatmaps(out / "localconv_heatmap.png", hm)
    blocks.append(doc.figure("localconv_heatmap.png", "Emergence along the digits' PCs: log10 λ̃/λ over PCs "
                             "× τ with τ* (dots); exact closed forms (linear, conv2d) and propagator (local2d)."))
    bar = ds.basis("fourier")[0] @ theory.basis.fourier_weights(ds.U, ds.shape)
    v0 = float(theory.get("conv2d").initial_variance(0.1))
    F.mechanism(out / "localconv_mechanism.png", ds.lam, bar, tau, hm[1]["ratio"].T * m.target,
                np.sqrt(v0 * ds.lam), [0, 5, 20, 40, 58])
    blocks.append(doc.figure("localconv_mechanism.png", "Mechanism. Left: the variance a shift-invariant model "
                             "can reach along a PC, uᵀΣ̄u, against the PC's own variance λ_u — squeezed on "
                             "non-stationary images. Right: λ̃ along five PCs for conv2d P = 3 with their "
                             "thresholds √(v₀λ) (dashed): one rise, crossed at nearly one time."))
    ex = {}
    for b in ("pcs", "fourier"):
        fits = [by[(("conv2d", P), "digits", b)].fits["geometric"]["increasing"] for P in KERNELS]
        ex[f"conv2d, {b}"] = (np.array([f.alpha for f in fits]), np.array([f.ci[0] for f in fits]),
                              np.array([f.ci[1] for f in fits]))
    F.errorbars(out / "localconv_exponents.png", KERNELS, ex, "kernel size P", "α (95% CI)",
                "digits: exponent vs kernel size")
    blocks.append(doc.figure("localconv_exponents.png", "Fitted α (all emerging modes, 95% CI) against the "
                             "kernel size on digits, along PCs and Fourier modes."))
    F.sigma_tau_map(out / "localconv_fig14.png", _fig14(ds))
    blocks.append(doc.figure("localconv_fig14.png", "The paper's Fig. 14 in linear form: how far the trained "
                             "(closed-form) 2-D linear denoiser on digits is from any P×P convolution, per σ "
                             "and τ (0: exactly a convolution; 1: orthogonal to all of them)."))
    return blocks


def section(out):
    """(blocks, JSON tables) of the section; figures written into `out`."""
    sets, meas, flags = compute()
    from verify.localconv.analysis import compression

    comp = compression(sets["digits"])
    by = {(k, f.dataset, f.basis): f for k, f in flags}
    S_conv = by[(("conv2d", 3), "digits", "pcs")].simultaneity
    local = by[(("local2d", 3), "digits", "pcs")]
    S_local, hi_local = local.simultaneity, local.fits_high["geometric"]
    mech_blocks, mech_table = mechanism_report.blocks_and_table()
    blocks = [doc.h2("Local convolution"),
              doc.p("The paper reports near-simultaneous emergence of many modes in convolutional denoisers "
                    "(exponent near 0), without a derivation. Here the linear models are solved exactly and "
                    "measured along three bases: the data's principal components (as the paper), real Fourier "
                    "modes, and 4×4 patch PCs at stride 2 (Figs. 17–20). Exponent fits and τ* use exact "
                    "crossings of the geometric threshold (Q = 0.1, increasing modes, gray zone excluded); "
                    f"S = std ln τ* / std ln λ over the emerging modes, S < {SIMULTANEOUS} flags "
                    "near-simultaneous emergence; converged-target mismatch is a separate reason."),
              doc.p(f"Finding on digits (data PCs): conv2d P = 3 gives S = {S_conv:.2f}, the locally "
                    f"connected control S = {S_local:.2f}. A shift-invariant model's generated covariance is "
                    "diagonal in Fourier space, so along a PC u it is Σ_f |û(f)|² λ̃_f(τ) with σ- and "
                    "τ-independent weights; it starts at v₀ and tends to uᵀΣ̄u (the shift-averaged "
                    "covariance), not to λ_u. On digits shift-averaging squeezes the targets (std ln uᵀΣ̄u / "
                    f"std ln λ_u = {comp:.2f}), every PC rides the same mixture of high-variance Fourier "
                    "modes, and a smaller λ_u only lowers its threshold on a trajectory that does not depend "
                    "on it: all PCs cross together, at full width as at P = 3, 5, 7. Backed by "
                    + ", ".join(MECHANISM_TESTS) + ". Caveat, measured: over the high-variance half of the "
                    f"PCs the locally connected control is shallow too (α = {hi_local.alpha:.2f} "
                    f"[{hi_local.ci[0]:.2f}, {hi_local.ci[1]:.2f}]). On random covariances whose PCs spread "
                    "over the whole image the locally connected model is near-simultaneous as well (tested). "
                    "Along Fourier modes the roles swap (the dense linear model looks shallow), and along "
                    "patch PCs every model looks shallow: the measurement basis decides what is seen."),
              *mech_blocks,
              doc.table(_table(flags))]
    blocks += _figures(out, sets, meas, flags)
    tables = {"compression_digits": comp, "mechanism": mech_table,
              "flags": [dict(f.as_dict(), model=_model(*k), P=k[1]) for k, f in flags]}
    return blocks, tables
