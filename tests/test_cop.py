import numpy as np

from analysis.cop import cop


def test_worked_check_two_sensors():
    # shared/notes/gait.md: y=0.10 at 300 N and y=0.70 at 100 N → COP y = 0.25 (SI 25)
    cx, cy = cop(np.array([300.0, 100.0]), np.array([0.5, 0.5]), np.array([0.10, 0.70]))
    assert cy == 0.25


def test_unloaded_is_nan_never_zero():
    f = np.array([[0.0, 0.0], [5.0, 0.0], [100.0, 100.0]])
    cx, cy = cop(f, np.array([0.2, 0.8]), np.array([0.1, 0.7]), threshold_n=10.0)
    assert np.isnan(cy[0]) and np.isnan(cy[1])
    assert cy[2] == 0.4 and cx[2] == 0.5


def test_negative_noise_does_not_pull_the_cop():
    cx, cy = cop(np.array([200.0, -5.0]), np.array([0.5, 0.5]), np.array([0.1, 0.9]))
    assert cy == 0.1
