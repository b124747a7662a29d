"""results.parquet/modes.parquet: no dotted column names, no object columns of missing values
(issue 18 item 8), and older files (dotted names, object columns) are mapped when read back."""
import numpy as np
import pandas as pd
import pytest

from verify import sweep
from verify.sweep import columns


class GapKind(sweep.RunKind):
    """Runs whose theory exponent, note and flag are always missing, and a failure on seed 1."""

    name = "test-gaps"
    keys = {"seed": sweep.Key(0, lambda _, v: int(v))}

    def run(self, config):
        if config["seed"] == 1:
            raise RuntimeError("planned failure")
        return sweep.Result([{"criterion": "geometric", "direction": "increasing", "alpha": 1.0 + config["seed"],
                              "ci_lo": 0.5, "ci_hi": 1.5, "r2": 0.99, "n": 3, "theory_alpha": None}],
                            scalars={"passed": True, "err": 0.01, "never": None, "count": 4})


@pytest.fixture
def gaps(tmp_path):
    sweep.register_kind(GapKind())
    try:
        spec = sweep.parse({"kind": "test-gaps", "grid": [{"seeds": 3}]})
        yield sweep.run_sweep(spec, tmp_path, serial=True, progress=False), tmp_path
    finally:
        sweep.unregister_kind("test-gaps")


def _text(series):
    return isinstance(series.dtype, pd.StringDtype)  # "string" or pandas 3's default "str"


def _no_object_gaps(frame):
    for col in frame.columns:
        assert "." not in col, col
        assert not (frame[col].dtype == object and frame[col].isna().all()), col


def test_results_parquet_has_typed_undotted_columns(gaps):
    res, root = gaps
    back = pd.read_parquet(root / "results.parquet")  # plain pandas, not our reader
    _no_object_gaps(back)
    assert [c for c in back.columns if back[c].dtype == object] == []
    assert back["theory_alpha_geometric_increasing"].dtype == np.float64
    assert back["theory_alpha_geometric_increasing"].isna().all()
    assert back["never"].dtype == np.float64 and back["never"].isna().all()
    assert str(back["passed"].dtype) == "boolean" and back["passed"].isna().sum() == 1  # the failed run
    assert str(back["n_geometric_increasing"].dtype) == "Int64"
    assert str(back["count"].dtype) == "Int64" and str(back["attempt"].dtype) == "Int64"
    assert _text(back["status"]) and _text(back["version_numpy"])
    ok = back["status"] == "ok"
    assert back.loc[ok, "alpha_geometric_increasing"].tolist() == [1.0, 3.0]  # seeds 0 and 2
    pd.testing.assert_frame_equal(back, res.results.reset_index(drop=True), check_like=True)


def test_old_dotted_object_tables_are_mapped_on_read(tmp_path):
    old = pd.DataFrame({"key": ["a", "b"], "alpha.geometric.increasing": [1.0, None],
                        "theory_alpha.geometric.increasing": pd.Series([None, None], dtype=object),
                        "n.geometric.increasing": [3.0, np.nan], "version.numpy": ["2.0", "2.0"],
                        "passed": pd.Series([True, None], dtype=object)})
    old.to_parquet(tmp_path / "results.parquet", index=False)
    assert pd.read_parquet(tmp_path / "results.parquet")["theory_alpha.geometric.increasing"].dtype == object
    back = columns.read(tmp_path / "results.parquet")
    assert list(back.columns) == ["key", "alpha_geometric_increasing", "theory_alpha_geometric_increasing",
                                  "n_geometric_increasing", "version_numpy", "passed"]
    _no_object_gaps(back)
    assert back["theory_alpha_geometric_increasing"].dtype == np.float64
    assert back["n_geometric_increasing"].tolist()[0] == 3 and str(back["n_geometric_increasing"].dtype) == "Int64"
    assert str(back["passed"].dtype) == "boolean" and _text(back["key"])


def test_typed_refuses_to_guess_mixed_columns():
    """A column mixing numbers and text stays as it is (no silent coercion): the check can fail."""
    frame = columns.typed(pd.DataFrame({"mixed": [1.0, "x"], "gap": [None, None]}))
    assert frame["mixed"].dtype == object and frame["gap"].dtype == np.float64
