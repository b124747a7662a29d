"""What `derive --solve` prints for pasting: the solved gain, the generated variance and the emergence
equation as LaTeX and as Python, with their conditions, and the measured accuracy of the generated
float64 evaluator against mpmath over the declared domain (`scan`)."""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.numpy import SciPyPrinter

from .. import symbols as S

NAMES = {S.lam: r"\lambda", S.sigma: r"\sigma", S.tau: r"\tau", S.eta: r"\eta", S.psi: r"\psi",
         S.sigma0: r"\sigma_0", S.sigmaT: r"\sigma_T"}


def tex(expr) -> str:
    return sp.latex(expr, symbol_names=NAMES)


def conditions(arch) -> list[str]:
    """When the printed forms hold: the symbols' assumptions, the stable fixed point, Ei arguments > 0."""
    g = arch.solved_gain
    out = [f"λ, σ, η, τ > 0, Q ∈ [{arch.q_range[0]:g}, {arch.q_range[1]:g}]"]
    if g.fixed_point is not None:
        rate = sp.factor(-sp.diff(g.ode, S.psi).subs(S.psi, g.fixed_point))
        out.append(f"the fixed point ψ* = {sp.sstr(g.fixed_point)} is stable: {sp.sstr(rate)} > 0")
    for p in arch.anti.ei:
        out.append(f"Ei argument: {sp.sstr(p.u)} > 0 on the sampling range")
    out += list(arch.spec.conditions)
    return out


def emergence_equation(arch) -> tuple[str, str]:
    """τ* (geometric criterion, theory.md §4.1) solves ln λ̃(τ*) = ½(ln v₀ + ln λ)."""
    v0 = arch.sampling.initial_log_variance(S.Q, S.sigma0, S.sigmaT, log=sp.log)
    text = f"τ* solves ln λ̃(τ*) = ½(ln v₀ + ln λ),  ln v₀ = {sp.sstr(v0)}  (geometric criterion, theory.md §4.1)"
    latex = (r"\ln\tilde\lambda(\tau^*) = \tfrac12\left(\ln v_0 + \ln\lambda\right),\quad \ln v_0 = "
             + tex(v0))
    return text, latex


def python_source(arch) -> str:
    """Plain Python (numpy/scipy) a researcher can paste: ψ and ln λ̃ as written by sympy."""
    params = [str(s) for s in arch.param_symbols]
    lines = []
    if arch.solved_gain.solution is not None:
        args = ", ".join(["lam", str(arch.sampling.variable), "tau", "Q", "eta"] + params)
        lines += [f"def psi({args}):", f"    return {_code(arch.solved_gain.solution)}"]
    if arch.solved_gain.implicit is not None:
        args = ", ".join(["psi", "lam", str(arch.sampling.variable), "Q", "eta"] + params)
        tau = arch.solved_gain.implicit.tau_expr(arch.solved_gain.fixed_point)
        lines += [f"def tau_of_psi({args}):  # ψ(τ): its root between Q and ψ*; cancels for ψ, Q ≫ ψ*",
                  f"    return {_code(tau)}"]
    if arch.anti.expr is not None:
        gen = arch.sampling.log_variance_expr(arch.anti.expr)
        args = ", ".join(["lam", "tau", "Q", "eta", "sigma0", "sigmaT"] + params)
        lines += [f"def log_generated_variance({args}):  # for accuracy use theory.solve's evaluator",
                  f"    return {_code(gen)}"]
    return "\n".join(lines)


def _code(expr) -> str:
    return SciPyPrinter({"fully_qualified_modules": True}).doprint(expr)


def scan(arch, n_lam: int = 5, params=None) -> dict:
    """Worst float64-vs-mpmath error of the generated ψ and ln λ̃ over a grid of the declared domain
    (λ log-spaced over domain.lam, τ ∈ {1e−3, 1, 1e2, 1e4, τ_max}, Q at both ends and the middle of its
    range (a fixed point Q moved in by 1% of the range), σ log-spaced over [1e−3, 1e2] (t ∈ [0, 1] for
    flows)), and how many grid entries the
    closed form handed to quadrature. Without a closed form ψ(τ) or τ(ψ) the mpmath gain (a quadrature
    per Newton step) is slow: a smaller grid (ln λ̃ at one τ)."""
    params = params or {}
    dom = arch.domain
    closed = arch.solved_gain.solution is not None or arch.solved_gain.implicit is not None
    lam = np.geomspace(*dom.lam, n_lam if closed else 2)
    taus = [1e-3, 1.0, 1e2, 1e4, dom.tau[1]] if closed else [0.3, 3.0]
    lo, hi = arch.q_range
    Qs = [lo, (lo + hi) / 2, hi] if closed else [(lo + hi) / 2]
    Qs = [q + 0.01 * (hi - lo) if q in arch.q_fixed_points else q for q in Qs]  # as verify: not a fixed point
    xs = np.linspace(0.0, 1.0, 3) if arch.sampling.variable == S.t else np.geomspace(1e-3, 1e2, 3 if closed else 2)
    before = arch.fallbacks.entries
    worst_w = worst_l = 0.0
    where_w = where_l = ""
    for tau in taus:
        for Q in Qs:
            if closed or tau == taus[0]:
                for x in xs:
                    w, ref = (arch.weight(lam, x, tau, Q=Q, dps=d, **params) for d in (None, 30))
                    err = float(np.max(np.abs(w - ref) / np.maximum(1e-300, np.abs(ref))))
                    if err > worst_w:
                        worst_w, where_w = err, f"τ = {tau:g}, Q = {Q:g}, {arch.sampling.variable} = {x:g}"
            if not closed and tau != taus[0]:
                continue
            lv, ref = (arch.log_generated_variance(lam, tau, Q=Q, dps=d, **params) for d in (None, 30))
            err = float(np.max(np.abs(lv - ref) / np.maximum(1.0, np.abs(ref))))
            if err > worst_l:
                worst_l, where_l = err, f"τ = {tau:g}, Q = {Q:g}"
    points = len(taus) * len(Qs) * lam.size
    where_w = where_w or "equal at every grid point"
    return {"weight": (worst_w, where_w), "log_variance": (worst_l, where_l),
            "fallback_entries": arch.fallbacks.entries - before, "points": points,
            "fallback_where": arch.fallbacks.last}


def print_solved(arch, measure: bool = True) -> None:
    g, anti = arch.solved_gain, arch.anti
    print(f"== derive --solve {arch.name}: {arch.title}")
    print(f"gain ODE (derived)  dψ/dτ = {sp.sstr(g.ode)}")
    print(f"ODE class           {g.kind}")
    print(f"solved gain         {g.note}")
    if g.solution is not None:
        print(f"  ψ = {sp.sstr(g.solution)}")
    if g.implicit is not None:
        print(f"  τ = {sp.sstr(g.implicit.tau_expr(g.fixed_point))}")
    if anti.expr is not None:
        print(f"sampling integral   {'; '.join(dict.fromkeys(anti.methods))}")
        print(f"  ln H = {sp.sstr(anti.expr)}")
    else:
        print(f"sampling integral   {anti.note}")
    text, latex = emergence_equation(arch)
    print(f"emergence time      {text}")
    print("conditions          " + "; ".join(conditions(arch)))
    print("LaTeX:")
    if g.solution is not None:
        print(r"  \psi(" + tex(arch.sampling.variable) + r",\tau) = " + tex(g.solution))
    if g.implicit is not None:
        print(r"  \tau(\psi) = " + tex(g.implicit.tau_expr(g.fixed_point)))
    if anti.expr is not None:
        print(r"  \ln\tilde\lambda = " + tex(arch.sampling.log_variance_expr(anti.expr)))
    print("  " + latex)
    print("Python:")
    print("\n".join("  " + line for line in python_source(arch).splitlines()) or "  (no closed form)")
    if measure:
        s = scan(arch)
        (ew, ww), (el, wl) = s["weight"], s["log_variance"]
        print(f"float64 vs mpmath   ψ: worst relative error {ew:.2g} ({ww}); ln λ̃: {el:.2g} ({wl})"
              + ("" if arch.anti.expr is not None else " [quadrature of the float64 ψ vs quadrature of the mpmath ψ]")
              + f" over {s['points']} grid points of the declared domain")
        if s["fallback_entries"]:
            print(f"quadrature fallback the closed form lost > 6 digits at {s['fallback_entries']} entries "
                  f"(e.g. {s['fallback_where']}): ln λ̃ there is Gauss–Legendre quadrature")
    print(f"--solve took        {arch.seconds:.2f} s (solving) ")
