"""Legends never cover data (issue 18, item 8), checked on the rendered figures of localconv_tau_star,
localconv_controls and the spiked report's clocks; the checker itself catches a legend placed on data."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from verify import figure_checks
from verify.localconv import figures as figures_localconv
from verify.spiked import data as report_spiked_data
from verify.spiked import figures as report_spiked_figures


@pytest.fixture
def captured(monkeypatch):
    figs = []

    def keep(fig, path):
        fig.tight_layout()
        figs.append(fig)

    for module in (figures_localconv, report_spiked_figures):
        monkeypatch.setattr(module, "_save", keep)
    yield figs
    for f in figs:
        plt.close(f)


def test_checker_catches_a_legend_on_the_data():
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 400)
    for k in range(6):
        ax.plot(x, x * 0 + k / 5 + 0.1 * x, ".", label=f"series {k}")
    ax.legend(loc="center")
    assert figure_checks.legend_overlaps(fig)
    plt.close(fig)


def test_localconv_tau_star_legend_is_off_the_data(captured, tmp_path):
    rng = np.random.default_rng(0)
    series = [(f"model {i}", 10 ** rng.uniform(-4, 1, 60), 10 ** rng.uniform(-3, 3, 60)) for i in range(6)]
    figures_localconv.tau_star_panels(tmp_path / "a.png", [{"title": "pcs", "series": series},
                                                          {"title": "fourier", "series": series}])
    assert figure_checks.legend_overlaps(captured[0]) == []


def test_localconv_controls_legend_is_off_the_bars(captured, tmp_path):
    groups = ["digits pcs", "digits fourier", "stationary pcs", "stationary fourier"]
    series = {f"model {i}": list(np.full(4, 0.9) + 0.02 * i) for i in range(6)}  # bars fill the panel
    figures_localconv.bars(tmp_path / "b.png", groups, series, "S", "controls", line=1.0)
    assert figure_checks.legend_overlaps(captured[0]) == []


def test_spiked_clocks_legend_is_off_the_curves(captured, tmp_path):
    lam = report_spiked_data.LAM_CLOCKS
    fix = {"g": {"lam": lam[::2], "measured": 0.5 * lam[::2]}}
    report_spiked_figures.clocks(tmp_path / "c.png", report_spiked_data.clocks_section(fix))
    assert figure_checks.legend_overlaps(captured[0]) == []
