"""Each report architecture's derivation status (the checks of `specbias derive`), carried into
report.md/.html/.json.

A researcher's module (loaded from a file) is derived first, in this process, before anything is trained,
so that a wrong module fails the report in seconds. Built-in architectures are derived in one child
process (`python -m verify.report.derivations NAME...`, JSON on stdout) while the report trains, so the
report takes no longer (about 10 s of sympy in total); `result()` waits for them. A plain subprocess, not
multiprocessing: spawn would re-run a researcher's script (its __main__) in the child.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field

import theory
from theory.errors import SpecbiasError


class DerivationFailed(SpecbiasError):
    """A report architecture's derivation failed (the report is not written without allow_failed)."""


@dataclass
class DeriveStatus:
    name: str
    ok: bool
    failed_at: str | None = None  # the first failing check
    detail: str = ""  # its detail (one line)
    checks: list = field(default_factory=list)  # [{"name", "status", "detail"}]

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        if not self.ok:
            return f"FAILED at {self.failed_at}: {self.detail}"
        kinds = [c["status"] for c in self.checks]
        n_sym, n_num = kinds.count("symbolic"), kinds.count("numeric")
        return f"derived and checked ({n_sym} symbolic, {n_num} numeric checks pass)"


def status(arch) -> DeriveStatus:
    """Run `arch.derive()`; an exception inside a researcher's code is a failed check, not a crash."""
    try:
        d = arch.derive()
    except SpecbiasError as exc:
        return DeriveStatus(arch.name, False, "derive", str(exc))
    except Exception as exc:  # a user's loss/solution raising: the derivation fails, the report says where
        return DeriveStatus(arch.name, False, "derive", f"deriving raised {type(exc).__name__}: {exc}")
    checks = [{"name": c.name, "status": c.status, "detail": " ".join(c.detail.split())} for c in d.checks]
    first = d.first_failure()
    if first is None:
        return DeriveStatus(arch.name, True, checks=checks)
    return DeriveStatus(arch.name, False, first.name, " ".join(first.detail.split()), checks)


def _source_file(arch) -> str | None:
    """The file a researcher's module was loaded from (theory.load_module), else None."""
    module = sys.modules.get(type(arch).__module__)
    return getattr(module, "__file__", None) if module is not None else None


def _builtin(arch) -> bool:
    return type(arch).__module__.startswith("theory.")


class Derivations:
    """Start the derivations of `names`; `result()` returns {name: DeriveStatus} in the order given."""

    def __init__(self, names: list[str], parallel: bool = True):
        self.names = list(names)
        archs = [theory.get(n) for n in names]
        builtin = [a.name for a in archs if _builtin(a)] if parallel else []
        self._done = {a.name: status(a) for a in archs if a.name not in builtin}  # user modules: now
        self._proc = None
        if builtin:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            self._proc = subprocess.Popen([sys.executable, "-m", "verify.report.derivations", *builtin],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def failed(self) -> list[DeriveStatus]:
        """The failures known so far (user modules are known at once)."""
        return [s for s in self._done.values() if not s.ok]

    def result(self) -> dict:
        if self._proc is not None:
            try:
                out, err = self._proc.communicate()
                if self._proc.returncode != 0:
                    raise RuntimeError(f"the derivation process failed (exit {self._proc.returncode}): "
                                       f"{err.strip().splitlines()[-1] if err.strip() else 'no message'}")
                self._done.update({d["name"]: DeriveStatus(**d) for d in json.loads(out)})
            finally:
                self.close()
        return {n: self._done[n] for n in self.names}

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.communicate()
            self._proc = None


def failure_message(failed: list[DeriveStatus]) -> str:
    names = "; ".join(f"{s.name} at {s.failed_at} ({s.detail[:160]})" for s in failed)
    return (f"derivation failed for {names}: the report was not written (`specbias derive` shows every check; "
            "--allow-failed-derivation writes the report with the failure at the top)")


if __name__ == "__main__":  # the child of Derivations: built-in names in, statuses as JSON out
    print(json.dumps([status(theory.get(n)).as_dict() for n in sys.argv[1:]]))
