"""`specbias bench nonlinear` run tiny: its JSON is self-consistent, and its analytic FLOP count agrees
with torch's own FLOP counter (torch.utils.flop_counter) on the same network — and disagrees with it for
a network one block deeper (the check can fail)."""
import json

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from numerics.nets import edm
from numerics.nets.bench import mlp_flops
from numerics.nets.models import build_net
from verify.cli import main


def counted(cfg: dict, d: int, batch: int, samples: int) -> tuple:
    """(training-step FLOPs, sampler-call FLOPs) of the MLP `cfg` as torch's FLOP counter sees them."""
    D = edm.edm_protocol().denoiser(build_net("mlp", (d,), **{k: cfg[k] for k in ("width", "depth", "emb", "mapping")}))
    with FlopCounterMode(display=False) as train:
        edm.edm_protocol().loss(D, torch.randn(batch, d), torch.Generator().manual_seed(0)).backward()
    with torch.inference_mode(), FlopCounterMode(display=False) as sample:
        D(torch.randn(samples, d), 0.3)
    return train.get_total_flops(), sample.get_total_flops()


def test_bench_nonlinear_tiny_json_is_self_consistent(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "nonlinear", "--steps", "3", "--checkpoints", "3", "--samples", "64", "--d", "8",
                 "--threads", "1", "--peak-size", "256", "--out", str(out)]) == 0
    row = json.loads(out.read_text())
    w, f = row["workload"], row["flops"]
    # the analytic count against the model's own parameter shapes and torch's FLOP counter (small batch:
    # the count is linear in batch and samples, which the formula's two terms carry)
    cfg, d = row["net_config"], w["d"]
    net = build_net("mlp", (d,), **{k: cfg[k] for k in ("width", "depth", "emb", "mapping")})
    assert f["macs_per_sample"] == sum(m.weight.numel() for m in net.modules() if isinstance(m, torch.nn.Linear))
    for mapping in (False, True):  # the bench's network (no mapping MLP) and the default one
        c = dict(cfg, mapping=mapping)
        small = mlp_flops(d, c["width"], c["depth"], c["emb"], batch=4, samples=5, mapping=mapping)
        assert (small["train_step"], small["sampler_eval"]) == counted(c, d, 4, 5)
        assert (small["train_step"], small["sampler_eval"]) != counted(dict(c, depth=c["depth"] + 1), d, 4, 5)
    assert f == mlp_flops(d, cfg["width"], cfg["depth"], cfg["emb"], w["batch"], w["samples"], cfg["mapping"])
    # timings add up; rates and fractions follow from them
    assert 0 < row["train_s"] and 0 < row["sampling_s"] and row["train_s"] + row["sampling_s"] <= row["wall_s"]
    assert np.isclose(row["total_s"], row["wall_s"] + row["measure_s"])
    assert np.isclose(row["train_ms_per_step"] * w["steps"], 1e3 * row["train_s"])
    assert row["sampler_evals"] == row["checkpoints"] * 2 * w["heun_steps"] == 3 * 40
    assert np.isclose(row["train_gflops"], f["train_step"] * w["steps"] / row["train_s"] / 1e9)
    for k in ("train_peak_fraction", "sampling_peak_fraction"):
        assert 0 < row[k] <= 1
    assert np.isclose(row["train_peak_fraction"], row["train_gflops"] / row["peak_gflops"])
    # the result: one τ* per mode, CI widths are the CIs' widths
    table = row["result"]["table"]
    assert len(table["lam"]) == len(table["tau_star"]) == len(table["v0"]) == d
    assert row["threads"] == 1 and len(row["load_before"]) == 3
    for fit in row["result"]["fits"].values():
        if fit["ci"][0] is not None:
            assert np.isclose(fit["ci_width"], fit["ci"][1] - fit["ci"][0])
    # the convention ladder: six rungs × two directions; its last rung is the fits above
    ladder = row["result"]["ladder"]
    assert len(ladder) == 12 and ladder[0]["conventions"] == "authors"
    for r in ladder[-2:]:
        assert r["conventions"] == "specbias (all switched)"
        assert r["n"] == row["result"]["fits"][r["direction"]]["n"]


def test_bench_nonlinear_autocast_is_recorded_and_refused_elsewhere(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "nonlinear", "--steps", "2", "--checkpoints", "2", "--samples", "32", "--d", "4",
                 "--threads", "1", "--peak-size", "128", "--autocast", "bf16", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["autocast"] == "bf16"
    assert main(["bench", "theory", "--autocast", "bf16"]) == 2
    assert "--autocast does not apply to bench theory" in capsys.readouterr().err
