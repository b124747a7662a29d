"""Load our Hypothesis profile (ci/dev/thorough, see verify.properties.profiles) on top of Hypothesis's own."""
import pytest

from verify.properties import profiles

profiles.load()


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """One quick report for linear and circulant (seed 3), shared by the report tests: (root, folder)."""
    from verify.report import build as report

    out = tmp_path_factory.mktemp("reports")
    return out, report.build("r", "quick", seed=3, out=out, archs=["linear", "circulant"], progress=False)
