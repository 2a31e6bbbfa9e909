"""The sensors' calibration (analysis/calibration.py): the checks and the conversion."""

import numpy as np
import pytest

from analysis.calibration import validate
from analysis.errors import ConfigError


def test_calibration_offset_must_be_finite():
    cal = {"model": "fsr_divider", "vcc_v": 3.3, "r_m_ohm": 1e4, "fs_v": 4.096, "bits": 16,
           "n_per_siemens": 4e6, "offset_n": float("nan")}
    with pytest.raises(ConfigError, match="offset_n"):
        validate(cal)


def test_one_frame_calibration_matches_the_vectorised_path():
    from analysis.calibration import Calibrator
    from pi.kit import load_kit
    lin = {"model": "linear", "scale": 0.5, "offset": -3.0}
    cals = [s.calibration for s in load_kit().layout][:3] + [lin]
    c = Calibrator(cals)
    rng = np.random.default_rng(1)
    block = np.column_stack([rng.integers(-50, 33000, (50, 3)), rng.normal(100, 50, 50)])
    block[7, 1] = np.nan
    whole = c(block)
    one = np.vstack([c(block[i:i + 1]) for i in range(len(block))])
    assert np.allclose(whole, one, rtol=1e-12, atol=1e-12)
    assert whole[7, 1] == 0.0 and one[7, 1] == 0.0
