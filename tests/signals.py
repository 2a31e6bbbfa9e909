"""Hand-made insole signals whose answer is known, shared by the tests."""

from __future__ import annotations

import numpy as np

from analysis.layout import Layout, Sensor

LINEAR = {"model": "linear", "scale": 1.0, "offset": 0.0}


def three_sensor_layout(feet=("left",), heel_y=0.10, mid_y=0.45, fore_y=0.75) -> Layout:
    """Heel, midfoot and forefoot sensors per foot, stored values in newtons."""
    sensors = []
    for foot in feet:
        p = foot[0].upper()
        sensors += [Sensor(f"{p}_heel", foot, 0.5, heel_y, LINEAR), Sensor(f"{p}_mid", foot, 0.8, mid_y, LINEAR),
                    Sensor(f"{p}_fore", foot, 0.5, fore_y, LINEAR)]
    return Layout(sensors)


def half_sine_steps(rate_hz=1000.0, n_steps=10, stride_s=0.7, contact_s=0.25, peak_n=1500.0,
                    first_on_s=0.5, share=(1.0, 0.0, 0.0), heel_delay_s=0.0, noise_n=0.0, drift_n_per_s=0.0,
                    seed=0):
    """One foot: half-sine contacts. ``share`` splits the force among (heel, mid, fore);
    ``heel_delay_s`` holds the heel's share back (a forefoot landing). Returns (t, values, truth)."""
    n = int((first_on_s + n_steps * stride_s + 0.5) * rate_hz)
    t = np.arange(n) / rate_hz
    v = np.zeros((n, 3))
    truth = []
    for k in range(n_steps):
        on = first_on_s + k * stride_s
        off = on + contact_s
        phase = (t - on) / contact_s
        inside = (phase > 0) & (phase < 1)
        f = np.where(inside, peak_n * np.sin(np.pi * np.clip(phase, 0, 1)), 0.0)
        heel = np.where(t >= on + heel_delay_s, f, 0.0) * share[0]
        v[:, 0] += heel
        v[:, 1] += f * share[1]
        v[:, 2] += f * share[2] + (f * share[0] - heel)     # the heel's share sits forward until it lands
        truth.append((on, off))
    rng = np.random.default_rng(seed)
    v += rng.normal(0, noise_n, v.shape) + drift_n_per_s * t[:, None]
    return t, v, truth
