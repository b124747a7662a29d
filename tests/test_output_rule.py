"""One output-folder rule for every command that writes (issue 20 §1): a folder that is new, empty,
or carries specbias's marker for that kind of output is written; anything else is refused before any
compute, with one line; files are written atomically with the umask's mode."""
import json
import os
import stat
import time

import pytest

from theory import output
from theory.errors import SpecbiasError
from verify.cli import main

TINY_SPEC = ('name = "tiny"\n[defaults]\nd = 4\nlevels = 4\ncheckpoints = 6\ntau_max = 10.0\n'
             'step_fraction = 0.2\n[measure]\ncriteria = ["geometric"]\n[[grid]]\narch = "linear"\nseeds = 1\n')


def _tree(root):
    return sorted((str(p.relative_to(root)), p.read_bytes() if p.is_file() else None) for p in root.rglob("*"))


def _one_line(capsys, frag):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("specbias: error:") and frag in err, err
    return err


@pytest.fixture
def users(tmp_path, monkeypatch):
    """A user's folder with their files, a folder of another specbias kind, and a spec."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    for name in ("summary.md", "metadata.json", "results.parquet", "run.json", "run.npz"):
        (tmp_path / "mine" / name).write_text("the user's " + name)
    (tmp_path / "spec.toml").write_text(TINY_SPEC)
    (tmp_path / "bench.json").write_text('{"my": "numbers"}')
    return tmp_path


# ---- the rule itself ------------------------------------------------------------------------------------
def test_check_out_accepts_new_empty_and_own_kind_refuses_the_rest(tmp_path):
    assert output.check_out(tmp_path / "new" / "deeper", "run") == tmp_path / "new" / "deeper"
    (tmp_path / "empty").mkdir()
    output.check_out(tmp_path / "empty", "run")
    own = output.claim(tmp_path / "own", "run")
    (own / "run.json").write_text("{}")
    output.check_out(own, "run")
    with pytest.raises(SpecbiasError, match="another kind .'run'."):
        output.check_out(own, "sweep")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(SpecbiasError, match="not empty and has no .specbias marker"):
        output.check_out(tmp_path / "full", "run")
    (tmp_path / "forged").mkdir()
    (tmp_path / "forged" / output.MARKER).write_text("not json")
    with pytest.raises(SpecbiasError):
        output.check_out(tmp_path / "forged", "run")
    assert not (tmp_path / "new").exists()  # checking creates nothing


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_write_atomic_follows_the_umask_and_leaves_no_temporary(tmp_path, umask):
    old = os.umask(umask)
    try:
        p = output.write_atomic(tmp_path / "sub" / "f.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask
    assert sorted(x.name for x in p.parent.iterdir()) == ["f.json"]


def test_write_atomic_keeps_the_old_file_when_the_writer_fails(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"old")

    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        output.write_atomic(p, boom)
    assert p.read_bytes() == b"old" and [x.name for x in tmp_path.iterdir()] == ["f"]


# ---- per command ----------------------------------------------------------------------------------------
def test_sweep_refuses_a_users_folder_before_running(users, capsys):
    before = _tree(users)
    t0 = time.perf_counter()
    assert main(["sweep", "spec.toml", "--out", "mine", "--serial", "--no-progress"]) == 2
    _one_line(capsys, "mine")
    assert main(["sweep", "spec.toml", "--out", "mine", "--dry-run"]) == 2
    _one_line(capsys, "--out")
    assert time.perf_counter() - t0 < 10 and _tree(users) == before  # imports included, loaded machine


def test_sweep_writes_a_new_folder_with_the_umask_and_resumes_into_it(users, capsys):
    old = os.umask(0o022)
    try:
        assert main(["sweep", "spec.toml", "--out", "sw", "--serial", "--no-progress"]) == 0
        assert main(["sweep", "spec.toml", "--out", "sw", "--serial", "--no-progress"]) == 0  # resume: ours
    finally:
        os.umask(old)
    assert "0 executed now, 1 already stored" in capsys.readouterr().out
    files = [p for p in (users / "sw").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"results.parquet", "metadata.json", "summary.md", output.MARKER}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(0o644)}  # were 0600
    assert main(["train", "linear", "--d", "4", "--out", "sw", "--no-progress"]) == 2  # a sweep's, not a run's
    _one_line(capsys, "another kind")


def test_train_refuses_a_users_folder_before_training(users, capsys):
    before = _tree(users)
    for argv in (["train", "linear", "--d", "4"], ["train", "--model", "mlp", "--d", "4"]):
        t0 = time.perf_counter()
        assert main([*argv, "--out", "mine", "--no-progress"]) == 2
        _one_line(capsys, "mine")
        assert time.perf_counter() - t0 < 10
    assert _tree(users) == before


def test_train_saves_into_a_new_folder_and_again_into_its_own(users, capsys):
    argv = ["train", "linear", "--d", "4", "--levels", "4", "--checkpoints", "3", "--out", "run1",
            "--no-progress", "--json"]
    assert main(argv) == 0 and main(argv) == 0
    assert json.loads((users / "run1" / output.MARKER).read_text())["kind"] == "run"
    assert {p.name for p in (users / "run1").iterdir()} == {"run.json", "run.npz", output.MARKER}


def test_run_save_api_refuses_a_users_folder(users):
    from numerics.run import Run

    with pytest.raises(SpecbiasError, match="refusing"):
        Run({}, {}).save(users / "mine")
    assert (users / "mine" / "run.json").read_text() == "the user's run.json"


def test_bench_out_refuses_a_users_file_before_the_benchmark(users, capsys):
    t0 = time.perf_counter()
    assert main(["bench", "nonlinear", "--out", "bench.json"]) == 2
    _one_line(capsys, "bench.json")
    assert time.perf_counter() - t0 < 10 and (users / "bench.json").read_text() == '{"my": "numbers"}'
    ours = users / "ours.json"
    ours.write_text(json.dumps({"written_by": "specbias", "kind": "bench"}))
    assert output.check_out_file(ours, "bench") == ours  # a bench file specbias wrote may be replaced
