"""Adversarial CLI inputs, by class (issue 8 §1–§3): every bad input exits 2 with ONE line on stderr
starting `specbias: error:`, no traceback, nothing computed and nothing deleted.

Each case must be refused before any compute, so the whole file is fast: a case that starts training or
a report shows up as a slow test (and, for the sizes, as a machine out of memory).
"""
import json
import os
import textwrap
import time

import pytest

import theory
from verify.cli import main

# (argv, a fragment the one-line message must contain: the argument's name or the rule)
CASES = {
    "degenerate/empty": [
        (["theory", "linear", "--lam"], "--lam"),
        (["theory", "linear", "--tau"], "--tau"),
        (["emergence", "linear", "--lam", "1", "--criterion", "median"], "--criterion"),
        (["train", "linear", "--taus", "1", "1"], "increasing"),
        (["theory", "linear", "--bogus"], "--bogus"),
        ([], "command"),
    ],
    "non-finite": [
        (["theory", "linear", "--Q", "nan"], "--Q"),
        (["theory", "linear", "--eta", "inf"], "--eta"),
        (["theory", "linear", "--lam", "1", "nan"], "--lam"),
        (["train", "linear", "--spectrum", "powerlaw", "--beta", "nan"], "--beta"),
        (["train", "linear", "--h", "nan"], "--h"),
        (["train", "linear", "--step-fraction", "nan"], "--step-fraction"),
        (["train", "linear", "--mode", "samples", "--batch", "4", "--optimizer", "adam", "--lr", "inf"],
         "--lr"),
        (["theory", "linear", "--lam", "abc"], "--lam"),
        (["spiked", "threshold", "--lam", "nan", "--gamma", "1"], "--lam"),
    ],
    "overflow": [
        (["theory", "linear", "--sigmaT", "1e308"], "sigmaT"),
        (["emergence", "linear", "--lam", "1", "0.1", "--sigmaT", "1e200"], "sigmaT"),
        (["theory", "linear", "--sigma0", "1e-320"], "sigma0"),
        (["spiked", "threshold", "--lam", "1e300", "--gamma", "1"], "lam"),
        (["spiked", "threshold", "--lam", "1", "--gamma", "1e308"], "gamma"),
        (["spiked", "chains", "--lam", "1", "--S2", "1e308"], "S2"),
    ],
    "counts": [
        (["train", "linear", "--checkpoints", "0"], "--checkpoints"),
        (["train", "linear", "--checkpoints", "1"], "--checkpoints"),
        (["bench", "nonlinear", "--checkpoints", "1"], "--checkpoints"),
        (["train", "linear", "--tau-max", "0"], "--tau-max"),
        (["train", "linear", "--seed", "-1"], "--seed"),
        (["train", "linear", "--seed", "1.5"], "--seed"),
        (["train", "linear", "--levels", "0"], "--levels"),
        (["train", "linear", "--d", "-3"], "--d"),
        (["train", "linear", "--steps", "0"], "--steps"),
        (["train", "linear", "--mode", "samples", "--batch", "0"], "--batch"),
        (["bench", "theory", "--modes", "-5"], "--modes"),
        (["bench", "theory", "--times", "0"], "--times"),
        (["report", "--seed", "-1"], "--seed"),
        (["train", "two_layer", "--model-param", "hidden=abc"], "hidden"),
        (["train", "two_layer", "--model-param", "hidden=2.5"], "hidden"),
        (["train", "two_layer", "--model-param", "hidden=-3"], "hidden"),
        (["train", "two_layer", "--model-param", "hidden"], "--model-param"),
        (["train", "--model", "mlp", "--width", "2.5"], "--width"),
        (["train", "--model", "mlp", "--depth", "-1"], "--depth"),
        (["train", "--model", "mlp", "--samples", "1"], "--samples"),
        (["train", "--model", "unet", "--channels", "8", "-8"], "--channels"),
        (["spiked", "threshold", "--lam", "1", "--d", "10", "--n", "10", "--M", "2.5"], "--M"),
        (["spiked", "simulate", "--lam", "1", "--d", "10", "--n", "10", "--seed", "-1"], "--seed"),
        (["spiked", "chains", "--lam", "1", "--T", "2.5"], "--T"),
        (["spiked", "fixation", "--lam", "1", "--sigma0", "-1"], "--sigma0"),  # σ0² made it a silent 1
        (["sweep", "--example", "--workers", "100000", "--dry-run"], "--workers"),
        (["bench", "theory", "--modes", "1"], "--modes"),
    ],
    "too large": [
        (["train", "linear", "--d", "100000000"], "--d"),
        (["train", "linear", "--levels", "100000000"], "memory"),
        (["train", "linear", "--d", "200000"], "memory"),
        (["train", "linear", "--h", "1e-9"], "steps"),
        (["train", "linear", "--tau-max", "1e15"], "steps"),
        (["train", "linear", "--steps", "100000000000"], "steps"),
        (["bench", "theory", "--modes", "100000000", "--times", "100000000"], "memory"),
        # sizes of a model or a network, estimated from the sizes alone (nothing allocated)
        (["train", "two_layer", "--d", "64", "--model-param", "hidden=16777216"], "memory"),
        (["train", "deep_linear", "--param", "L=100000"], "L"),
        (["theory", "deep_linear", "--param", "L=100000", "--lam", "1", "--tau", "1"], "L"),
        (["derive", "deep_linear", "--param", "L=200"], "derive"),
        (["train", "--model", "mlp", "--width", "1000000"], "memory"),
        (["train", "--model", "unet", "--channels", "60000", "60000"], "memory"),
        (["train", "--model", "mlp", "--samples", "100000000", "--bootstrap", "1000000"], "memory"),
        (["spiked", "simulate", "--lam", "1", "--d", "100000000", "--n", "100000000"], "memory"),
    ],
    "device": [
        (["train", "linear", "--device", "tpu"], "--device"),
        (["train", "linear", "--device", "cuda:abc"], "--device"),
        (["bench", "numerics", "--device", "gpu0"], "--device"),
    ],
    "ignored option": [
        (["train", "linear", "--spectrum", "digits", "--d", "5"], "--d"),
        (["train", "linear", "--batch", "8"], "--batch"),
        (["train", "linear", "--model-param", "foo=1"], "foo"),
        (["train", "linear", "--model-param", "hidden=3"], "hidden"),
        (["train", "flow_matching", "--sigma0", "-1"], "--sigma0"),
        (["train", "flow_matching", "--sigmaT", "10"], "--sigmaT"),
        (["train", "linear", "--spectrum", "powerlaw", "--beta", "1e5"], "beta"),
        (["train", "linear", "--spectrum", "stationary", "--beta", "1e5"], "beta"),
        (["train", "linear", "--spectrum", "lognormal", "--beta", "2"], "--beta"),
        (["train", "linear", "--lr", "0.1"], "--lr"),
        (["train", "linear", "--scale", "0.1"], "--scale"),
        (["train", "linear", "--taus", "0", "1", "--checkpoints", "5"], "--checkpoints"),
        (["train", "linear", "--taus", "0", "1", "--tau-max", "5"], "--tau-max"),
        (["train", "linear", "--h", "0.001", "--step-fraction", "0.1"], "--step-fraction"),
        (["verify", "linear", "--only", "bogusprop"], "bogusprop"),
        (["report", "--module", "/etc/hostname"], "not a Python module"),
        (["derive", "/etc/hostname.py"], "no such architecture module"),
        (["bench", "numerics", "--modes", "5"], "--modes"),
        (["bench", "theory", "--device", "cpu"], "--device"),
        (["train", "--model", "mlp", "--levels", "4"], "--levels"),
        (["train", "--model", "mlp", "--param", "L=3"], "--param"),
        (["train", "--model", "mlp", "--force"], "--force"),
        (["train", "deep_linear", "--model", "mlp"], "ARCH"),
        (["train", "linear", "--width", "8"], "--width"),
        (["train", "linear", "--protocol", "theory"], "--protocol"),
        (["report", "--preset", "spiked", "--arch", "linear"], "--arch"),
        (["report", "--preset", "nonlinear", "--module", "x.py"], "--module"),
        (["spiked", "fixation", "--lam", "1", "--steps", "10"], "--steps"),
    ],
}
FLAT = [(cls, argv, frag) for cls, cases in CASES.items() for argv, frag in cases]


def _one_line_error(capsys, frag):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("specbias: error:"), err
    assert frag in err, err
    return err


@pytest.mark.parametrize("cls,argv,frag", FLAT, ids=[f"{c}: {' '.join(a)}" for c, a, _ in FLAT])
def test_refused_before_compute(cls, argv, frag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    assert main(argv) == 2
    _one_line_error(capsys, frag)
    assert time.perf_counter() - t0 < 10, "refused only after computing"
    assert list(tmp_path.iterdir()) == []  # nothing written into the working directory


@pytest.mark.parametrize("grid,frag", [('seeds = 1000000000', "seeds"),
                                       ('Q = [0.1, 0.2, 0.3, 0.4]\nd = [4, 5, 6, 7, 8]\nseeds = 10000', "runs")])
def test_sweep_spec_too_many_runs_is_refused_before_expanding(grid, frag, tmp_path, capsys):
    spec = tmp_path / "big.toml"
    spec.write_text(f'name = "big"\nkind = "train"\n[[grid]]\narch = "linear"\n{grid}\n')
    t0 = time.perf_counter()
    assert main(["sweep", str(spec), "--dry-run"]) == 2  # seeds = 10⁹ was expanded: OOM-killed
    _one_line_error(capsys, frag)
    assert time.perf_counter() - t0 < 5


# ---- report names and output places: never delete or write what specbias did not create --------------
@pytest.fixture
def victim(tmp_path, monkeypatch):
    """A user's folder next to reports/, with a file in it, and an existing reports/ with a note."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "thesis.tex").write_text("years of work")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "README.md").write_text("notes")
    (tmp_path / "reports" / "mine").mkdir()
    (tmp_path / "reports" / "mine" / "data.csv").write_text("1,2")
    (tmp_path / "afile").write_text("x")
    return tmp_path


def _tree(root):
    return sorted((str(p.relative_to(root)), p.read_text() if p.is_file() else None)
                  for p in root.rglob("*"))


BAD_NAMES = ["../victim", "./../victim", "/abs/victim", ".", "..", "a/b", "", "  ", ".hidden",
             "x\\y", "nul\x00l"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_report_name_is_a_name(name, victim, capsys):
    before = _tree(victim)
    assert main(["report", "--quick", "--arch", "linear", "--name", name, "--no-progress"]) == 2
    _one_line_error(capsys, "--name")
    assert _tree(victim) == before


def test_report_refuses_to_replace_a_folder_it_did_not_write(victim, capsys):
    before = _tree(victim)
    assert main(["report", "--quick", "--arch", "linear", "--name", "mine", "--no-progress"]) == 2
    _one_line_error(capsys, "mine")
    assert _tree(victim) == before


@pytest.mark.parametrize("out,frag", [("afile", "--out"), ("afile/sub", "--out"), ("/proc/specbias-no", "--out")])
def test_report_out_must_be_a_writable_folder(out, frag, victim, capsys):
    before = _tree(victim)
    assert main(["report", "--quick", "--arch", "linear", "--out", out, "--no-progress"]) == 2
    _one_line_error(capsys, frag)
    assert _tree(victim) == before


@pytest.mark.parametrize("out", ["afile", "afile/sub", "/proc/specbias-no"])
def test_train_out_checked_before_training(out, victim, capsys):
    before = _tree(victim)
    t0 = time.perf_counter()
    assert main(["train", "linear", "--d", "4", "--out", out, "--no-progress"]) == 2
    _one_line_error(capsys, "--out")
    assert time.perf_counter() - t0 < 5 and _tree(victim) == before


@pytest.mark.parametrize("out", ["afile/x.json", "adir", "/proc/specbias-no/x.json"])
def test_bench_out_checked_before_the_benchmark(out, victim, capsys):
    """`bench nonlinear --out` is a file: a folder, a path under a file, an unwritable place are refused
    before minutes of training (it was an internal error after them)."""
    (victim / "adir").mkdir()
    before = _tree(victim)
    t0 = time.perf_counter()
    assert main(["bench", "nonlinear", "--out", out]) == 2
    _one_line_error(capsys, "--out")
    assert time.perf_counter() - t0 < 5 and _tree(victim) == before


# ---- derive on a researcher's module whose code raises ----------------------------------------------
RAISING = textwrap.dedent('''
    import theory
    from theory.archs.linear import Linear

    class Broken(Linear):
        name = "broken_io"

        def solution(self, **p):
            raise RuntimeError("my bug")

    theory.register(Broken())
''')


def test_derive_of_a_raising_module_is_one_line(tmp_path, capsys):
    path = tmp_path / "broken_io.py"
    path.write_text(RAISING)
    try:
        assert main(["derive", str(path)]) == 2
        err = _one_line_error(capsys, "broken_io")
        assert "my bug" in err
    finally:
        theory.unregister("broken_io")


# ---- strict JSON -----------------------------------------------------------------------------------
def _no_nan(text):
    def boom(token):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=boom)


def test_emergence_json_is_strict(capsys):
    assert main(["emergence", "linear", "--lam", "1", "--json"]) == 0  # one mode: no fit, α is null
    data = _no_nan(capsys.readouterr().out)
    assert data["fit"]["increasing"]["alpha"] is None and data["fit"]["increasing"]["n"] == 1


def test_emergence_with_equal_variances_has_no_fit_and_no_traceback(capsys):
    assert main(["emergence", "linear", "--lam", "1", "1", "1", "--json"]) == 0
    data = _no_nan(capsys.readouterr().out)
    assert data["fit"]["increasing"]["alpha"] is None and len(data["tau_star"]) == 3


# ---- Hypothesis's storage ----------------------------------------------------------------------------
def test_verify_keeps_hypothesis_storage_out_of_the_cwd(tmp_path, monkeypatch, capsys):
    from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

    before = storage_directory(intent_to_write=False).home_directory
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("SPECBIAS_HYPOTHESIS_DB", raising=False)
    try:
        assert main(["verify", "linear", "--only", "finite-in-range", "--profile", "dev"]) == 0
        home = storage_directory(intent_to_write=False).home_directory
    finally:
        set_hypothesis_home_dir(before)
    assert home == cache / "specbias" / "hypothesis"
    assert list(work.iterdir()) == []


def test_hypothesis_database_is_configurable(tmp_path, monkeypatch):
    from verify.properties import profiles

    monkeypatch.setenv("SPECBIAS_HYPOTHESIS_DB", str(tmp_path / "db"))
    assert profiles.database_path() == tmp_path / "db"
    assert profiles.database().path == tmp_path / "db" / "examples"
    monkeypatch.setenv("SPECBIAS_HYPOTHESIS_DB", "none")
    assert profiles.database_path() is None and profiles.database() is None


# ---- stale temporary folders and permissions -----------------------------------------------------------
def test_report_cleans_only_its_own_stale_temporaries_and_uses_the_umask(tmp_path, monkeypatch):
    from theory import output

    root = tmp_path / "reports"
    root.mkdir()
    dead = _dead_pid()
    ours = root / f".quick.tmp-{dead}-abc"  # a SIGKILLed run's folder: carries our marker, owner dead
    ours.mkdir()
    output.mark(ours, "quick")
    (ours / "report.md").write_text("half")
    alive = root / f".quick.tmp-{os.getpid()}-live"  # a run in progress (this process): kept
    alive.mkdir()
    output.mark(alive, "quick")
    foreign = root / f".quick.tmp-{dead}-usr"  # looks like ours but has no marker: kept
    foreign.mkdir()
    (foreign / "keep.txt").write_text("user")
    old = os.umask(0o022)
    try:
        folder = output.prepare(root, "quick")
        final = output.Staged(root, "quick")
        with final as tmp:
            (tmp / "report.md").write_text("new")
    finally:
        os.umask(old)
    assert not ours.exists() and alive.exists() and (foreign / "keep.txt").read_text() == "user"
    assert folder == root / "quick" and (folder / "report.md").read_text() == "new"
    assert (folder.stat().st_mode & 0o777) == 0o755


def _dead_pid() -> int:
    pid = 2**22 - 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


# ---- interruptions and bugs: one line, never a traceback ----------------------------------------------
@pytest.mark.parametrize("exc,code,start", [(KeyboardInterrupt(), 130, "specbias: interrupted"),
                                            (MemoryError(), 2, "specbias: error: out of memory"),
                                            (RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: "
                                                          "can't allocate memory: you tried to allocate 1e17 bytes"),
                                             2, "specbias: error: out of memory"),
                                            (ZeroDivisionError("boom"), 1,
                                             "specbias: internal error: ZeroDivisionError")])
def test_interruptions_and_bugs_are_one_line(exc, code, start, monkeypatch, capsys):
    from verify.cli import theory as theory_cli

    def raiser(args):
        raise exc

    monkeypatch.delenv("SPECBIAS_DEBUG", raising=False)
    monkeypatch.setattr(theory_cli, "cmd_theory", raiser)
    assert main(["theory", "linear"]) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith(start) and len(err.splitlines()) == 1 and "Traceback" not in err
    monkeypatch.setenv("SPECBIAS_DEBUG", "1")
    if code == 1:
        with pytest.raises(ZeroDivisionError):
            main(["theory", "linear"])


def test_sigterm_unwinds_like_ctrl_c_and_restores_the_handler(monkeypatch, capsys):
    """SIGTERM raises where the process is (so Staged removes its temporary folder, train_net keeps
    its completed checkpoints) and exits 143 with one line; the previous handler comes back."""
    import signal

    from verify.cli import theory as theory_cli

    def killed(args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this returns
        return 0

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(theory_cli, "cmd_theory", killed)
    t0 = time.monotonic()
    assert main(["theory", "linear"]) == 143
    assert time.monotonic() - t0 < 4
    err = capsys.readouterr().err.strip()
    assert err == "specbias: terminated"
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("argv,frag", [
    (["theory", "linear", "--Q", "-1e5"], "initial gain Q must lie in [0, 1]"),
    (["theory", "linear", "--lam", "1", "-2E3"], "--lam: value must be > 0 (got -2000)"),
    (["theory", "linear", "--tau", "-.5e-3"], "--tau: value must be >= 0"),
    (["theory", "linear", "--eta", "-inf"], "--eta: value contains NaN or infinite"),
])
def test_negative_numbers_with_exponents_are_values_not_options(argv, frag, capsys):
    """argparse's own pattern takes `-1e5` for an option and says "expected one argument"."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert frag in err and "expected one argument" not in err
