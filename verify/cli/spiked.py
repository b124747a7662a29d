"""`specbias spiked …`: the second paper's theory (Weitzner et al., arXiv 2410.14730) from the
command line.

    specbias spiked threshold --lam 4 1 --d 500 --n 1000         s_c² = λ√(n/d) and the threshold window
    specbias spiked overlap --lam 1 --d 500 --n 1000 --s2 0.1 1  top eigenvalue, α², gains and MSEs
    specbias spiked simulate --lam 1 --d 200 --n 200 --s2 0.1 3  Monte Carlo vs the limits (exit 1 if not)
    specbias spiked chains --lam 4 2 1 --S2 1 --T 64 256         R1, R2 (power iteration), PF-ODE, noisy R2
    specbias spiked fixation --lam 1 0.1 0.01 [--measure]        fixation noise per mode (Heun with --measure)
    specbias spiked kl --d 10 --n 50                             expected endpoint KL, both directions
    specbias spiked derive                                       the symbolic checks of §5.2–5.4
"""
from __future__ import annotations

import numpy as np

from theory.errors import SpecbiasError
from theory.output import dumps
from theory.spiked import chains as CH
from theory.spiked import covariance as SP
from theory.spiked import finite_sample as FS
from verify.cli import argtypes as T


def _emit(args, payload: dict, lines) -> None:
    if args.json:
        print(dumps(payload))
    else:
        print("\n".join(lines))


def _gamma(args) -> float:
    if args.gamma is not None:
        if args.d is not None or args.n is not None:
            raise SpecbiasError("give either --gamma or --d and --n, not both")
        return float(SP.check_gamma(args.gamma).reshape(()))
    if args.d is None or args.n is None:
        raise SpecbiasError("give --d and --n (or --gamma)")
    SP.check_spikes(args.lam, args.d)
    g = SP.aspect_ratio(args.d, args.n, args.M)
    if g == 0:
        raise SpecbiasError("M = inf (fresh noise): the noisy-PCA basis is the clean one, α² = 1 (theory.md §5.1)")
    return g


def _M(text: str):
    """--M: an integer ≥ 1, or inf (fresh noise); 2.5 is refused, not truncated to 2."""
    return np.inf if text.strip().lower() in ("inf", "infinity") else T.count()(text)


def cmd_threshold(args) -> int:
    g = _gamma(args)
    lam = SP.check_spikes(args.lam)
    sc = SP.critical_noise(lam, g)
    lo, hi = SP.threshold_window(lam, g)
    _emit(args, {"gamma": g, "lam": lam, "s2_critical": sc, "window": [lo, hi]},
          [f"γ = {g:.6g}; s_c² = λ/√γ; window |ℓ − √γ| < √γ/2 (no finite-size claim inside)",
           f"{'λ':>10}{'s_c²':>12}{'window lo':>12}{'window hi':>12}"]
          + [f"{l:10.4g}{c:12.4g}{a:12.4g}{b:12.4g}" for l, c, a, b in zip(lam, sc, lo, hi)])
    return 0


def cmd_overlap(args) -> int:
    g = _gamma(args)
    p = SP.predict(np.asarray(args.lam)[None, :], np.asarray(args.s2)[:, None], g)
    lines = [f"spiked model, γ = {g:.6g} (rank {len(args.lam)}); per (s², λ):",
             f"{'s²':>9}{'λ':>9}{'ℓ':>9}{'regime':>9}{'μ̂':>10}{'α²':>9}{'h*':>9}{'h_emp':>9}"
             f"{'MSE*':>10}{'MSE_emp':>10}"]
    for i, s2 in enumerate(args.s2):
        for j, lam in enumerate(args.lam):
            reg = "window" if p.in_window[i, j] else "above" if p.above[i, j] else "below"
            lines.append(f"{s2:9.4g}{lam:9.4g}{p.ell[i, j]:9.4g}{reg:>9}{p.top_eigenvalue[i, j]:10.4g}"
                         f"{p.overlap2[i, j]:9.4f}{p.gain_optimal[i, j]:9.4f}{p.gain_plugin[i, j]:9.4f}"
                         f"{p.mse_optimal[i, j]:10.4g}{p.mse_plugin[i, j]:10.4g}")
    _emit(args, dict(p.as_dict(), axes=["s2", "lam"]), lines)
    return 0


def cmd_simulate(args) -> int:
    from numerics.spiked import simulate as spiked
    from verify.spiked.checks import compare

    if args.d is None or args.n is None:
        raise SpecbiasError("simulate needs --d and --n")
    SP.check_spikes(args.lam, args.d)
    mc = spiked.monte_carlo(args.d, args.n, args.lam, args.s2, M=args.M, draws=args.draws, seed=args.seed,
                            device=args.device)
    a = compare(mc)
    th = mc.theory()
    payload = {"agreement": a.summary(), "s2": mc.s2, "lam": mc.lam, "gamma": mc.gamma,
               "measured": {f: mc.mean(f) for f in ("overlap2", "top_eigenvalue", "mse_optimal", "mse_plugin")},
               "stderr": {f: mc.stderr(f) for f in ("overlap2", "top_eigenvalue")},
               "theory": {"overlap2": th.overlap2, "top_eigenvalue": th.top_eigenvalue,
                          "mse_optimal": th.mse_optimal, "mse_plugin": th.mse_plugin}}
    lines = [f"Monte Carlo: d = {mc.d}, n = {mc.n}, M = {mc.M}, γ_eff = {mc.gamma:.4g}, {args.draws} draws",
             f"{'s²':>9}{'λ':>9}{'α² meas':>10}{'α² limit':>10}{'μ̂ meas':>10}{'μ̂ limit':>10}"]
    for i, s2 in enumerate(mc.s2):
        for j, lam in enumerate(mc.lam):
            lines.append(f"{s2:9.4g}{lam:9.4g}{mc.mean('overlap2')[i, j]:10.4f}{th.overlap2[i, j]:10.4f}"
                         f"{mc.mean('top_eigenvalue')[i, j]:10.4g}{th.top_eigenvalue[i, j]:10.4g}")
    s = a.summary()
    lines.append(f"{'agree' if a.ok else 'DISAGREE'}: {s['compared']} comparisons outside the window "
                 f"({s['skipped_in_window']} inside skipped), {s['failed']} failed")
    if s["worst"]:
        w = s["worst"]
        lines.append(f"worst: {w['quantity']} at s² = {w['s2']:.4g}, λ = {w['lam']:.4g}: error {w['error']:.3g} "
                     f"(allowed {w['allowed']:.3g})")
    _emit(args, payload, lines)
    return 0 if a.ok else 1


def cmd_chains(args) -> int:
    lam = np.sort(SP.check_spikes(args.lam))[::-1]
    Ts = [CH._steps(t) for t in args.T]
    out = {"lam": lam, "S2": args.S2, "T": Ts, "r1": CH.r1_product(lam, args.S2),
           "pf_ode": CH.pf_ode_factor(lam, args.S2),
           "log_r2": [CH.log_r2_product(lam, args.S2, t) for t in Ts],
           "log_r2_asymptotic": [CH.log_r2_asymptotic(lam, args.S2, t) for t in Ts],
           "noisy_variance": [CH.noisy_chain_variance(lam, args.S2, t) for t in Ts],
           "noisy_asymptotic": [CH.noisy_chain_asymptotic(lam, args.S2, t) for t in Ts]}
    if lam.size >= 2:
        out["kappa"] = float(CH.kappa(lam[0], lam[1], args.S2))
    lines = [f"reverse chains from S² = {args.S2:g} (levels s_t² = tS²/T); per mode λ:",
             "R1 one-step MMSE: " + " ".join(f"{v:.4g}" for v in out["r1"]) + "   (telescopes, no collapse)",
             "PF-ODE:           " + " ".join(f"{v:.4g}" for v in out["pf_ode"]) + "   (exact transport)"]
    for t, lr, la, nv in zip(Ts, out["log_r2"], out["log_r2_asymptotic"], out["noisy_variance"]):
        lines.append(f"T = {t}: R2 log G = " + " ".join(f"{v:.4g}" for v in lr)
                     + "  | log(G_i/G_0) = " + " ".join(f"{v - lr[0]:.4g}" for v in lr)
                     + "  | noisy R2 variance = " + " ".join(f"{v:.4g}" for v in nv))
    if "kappa" in out:
        lines.append(f"power-iteration rate κ = φ(S²/λ_1) − φ(S²/λ_0) = {out['kappa']:.6g}")
    _emit(args, out, lines)
    return 0


def cmd_fixation(args) -> int:
    lam = np.sort(SP.check_spikes(args.lam))[::-1]
    pred = CH.fixation_noise(lam, args.r, args.sigma0**2)
    out = {"lam": lam, "r": args.r, "s2_fix_theory": pred}
    if args.steps is not None and not args.measure:
        raise SpecbiasError("--steps does not apply without --measure (the theory needs no Heun steps)")
    if args.measure:
        from numerics.spiked import dynamics as spiked_dynamics

        if np.any(lam <= 0):
            raise SpecbiasError("--measure needs every eigenvalue > 0")
        f = spiked_dynamics.fixation(spiked_dynamics.wiener_denoiser(np.diag(lam)), np.eye(lam.size), r=args.r,
                                     sigma0=args.sigma0, steps=args.steps or 256)
        out["s2_fix_heun"] = f.s2_fix
    lines = [f"fixation noise s_k² at which x̂₀ reaches r = {args.r:.4g} of its final value (σ_0 = {args.sigma0:g})",
             f"{'λ':>10}{'theory':>12}" + (f"{'Heun':>12}" if args.measure else "")]
    for i, l in enumerate(lam):
        lines.append(f"{l:10.4g}{pred[i]:12.4g}" + (f"{out['s2_fix_heun'][i]:12.4g}" if args.measure else ""))
    _emit(args, out, lines)
    return 0


def cmd_kl(args) -> int:
    out = FS.expected_endpoint_kl(args.d, args.n, centred=not args.raw)
    conv = "raw second moment, mean 0" if args.raw else "centred: N(μ̂, Ŝ)"
    _emit(args, dict(out, d=args.d, n=args.n, convention=conv),
          [f"expected KL of the training-set Gaussian ({conv}) vs the data Gaussian, d = {args.d}, n = {args.n}:",
           f"  KL(generated || data) = {out['generated||data']:.6g}",
           f"  KL(data || generated) = {out['data||generated']:.6g}"])
    return 0


def cmd_derive(args) -> int:
    from theory.report_derivation import MARK

    checks = SP.derive() + CH.derive()
    if args.json:
        print(dumps({"checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in checks]}))
    else:
        print("== spiked model (theory.md §5.2) and reverse chains / fixation (theory.md §5.3–5.4): symbolic checks")
        for c in checks:
            print(f"  [{MARK[c.status]:>16}] {c.name}: {c.detail}")
    return 0 if all(c.ok for c in checks) else 1


def _common(p, lam=True, size=True):
    if lam:
        p.add_argument("--lam", type=T.nonneg, nargs="+", default=[1.0], help="spike strengths λ_i (rank k)")
    if size:
        p.add_argument("--d", type=T.count(hi=10**9), help="dimension d")
        p.add_argument("--n", type=T.count(hi=10**12), help="clean training samples n")
        p.add_argument("--M", type=_M, default=1, help="noise draws per sample (inf: fresh noise)")
        p.add_argument("--gamma", type=T.positive, help="aspect ratio γ = d/n instead of --d/--n")
    p.add_argument("--json", action="store_true", help="strict JSON (no NaN)")


def add_parsers(sub) -> None:
    top = sub.add_parser("spiked", help="finite training sets, spiked covariance, reverse chains "
                                        "(Weitzner et al., arXiv 2410.14730)")
    s = top.add_subparsers(dest="spiked_command", required=True)
    p = s.add_parser("threshold", help="critical noise s_c² = λ√(n/d) and the threshold window")
    _common(p)
    p.set_defaults(func=cmd_threshold)
    p = s.add_parser("overlap", help="top eigenvalue, squared overlap, gains and MSEs vs s²")
    _common(p)
    p.add_argument("--s2", type=T.nonneg, nargs="+", default=[0.1, 0.5, 1.0, 2.0], help="noise variances s²")
    p.set_defaults(func=cmd_overlap)
    p = s.add_parser("simulate", help="Monte Carlo of the noisy-PCA denoiser against the limits")
    _common(p)
    p.add_argument("--s2", type=T.nonneg, nargs="+", default=[0.1, 0.5, 2.0], help="noise variances s²")
    p.add_argument("--draws", type=T.count(hi=10**6), default=16)
    p.add_argument("--seed", type=T.seed, default=0)
    p.add_argument("--device", type=T.device, default="auto")
    p.set_defaults(func=cmd_simulate)
    p = s.add_parser("chains", help="R1, R2 (power iteration), PF-ODE and the noisy chain per mode")
    _common(p, size=False)
    p.add_argument("--S2", type=T.positive, default=1.0, help="start noise variance S²")
    p.add_argument("--T", type=T.count(hi=10**9), nargs="+", default=[64, 256], help="chain lengths")
    p.set_defaults(func=cmd_chains)
    p = s.add_parser("fixation", help="fixation noise per mode (theory; Heun with --measure)")
    _common(p, size=False)
    p.add_argument("--r", type=T.fraction(), default=CH.FIX_FRACTION, help="fraction of the final x̂₀ (default 1/√2)")
    p.add_argument("--sigma0", type=T.positive, default=0.002, help="end of sampling σ_0 (default 0.002)")
    p.add_argument("--steps", type=T.count(hi=10**6), default=None, help="Heun steps of --measure (default 256)")
    p.add_argument("--measure", action="store_true", help="also measure along EDM Heun trajectories")
    p.set_defaults(func=cmd_fixation)
    p = s.add_parser("derive", help="every symbolic check of the spiked model and the chains")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_derive)
    p = s.add_parser("kl", help="expected KL of the finite-sample endpoint N(μ̂, Ŝ) to the data law")
    p.add_argument("--d", type=T.count(hi=10**9), required=True)
    p.add_argument("--n", type=T.count(hi=10**12), required=True)
    p.add_argument("--raw", action="store_true", help="raw second moment, mean 0 (instead of centred)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kl)
