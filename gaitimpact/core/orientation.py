"""Orientation-free geometry: gravity/vertical, forward and left axes estimated from the data.

Nothing assumes how the sensor is mounted. Gravity is the mean specific force over a stretch of
running (over whole strides the body's own acceleration averages out), vertical is its direction.
At the waist the forward axis is the horizontal direction of the braking acceleration just after
initial contact, and left = up x forward (right-handed sensor frame).
"""

from __future__ import annotations

import numpy as np


def gravity_direction(acc_g: np.ndarray, step: int = 1) -> np.ndarray:
    """Unit vector (sensor frame) of the mean specific force (g) = "up"; step subsamples for speed."""
    mean = np.asarray(acc_g[::step], dtype=np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if not np.isfinite(norm) or norm < 1e-6:
        return np.array([0.0, 0.0, 1.0])
    return mean / norm


def vertical_g(acc_g: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Vertical specific force in g (positive up; 1 g at rest) = acc_g . up."""
    return project(acc_g, up)


def project(acc_g: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Component (g) of (N, 3) vectors along a unit axis (column arithmetic: faster than a matmul)."""
    a = np.asarray(acc_g, dtype=np.float64)
    return np.einsum("ij,j->i", a, np.asarray(axis, dtype=np.float64))


def horizontal_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal horizontal unit vectors perpendicular to up (arbitrary heading)."""
    ref = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = ref - up * float(ref @ up)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    return e1, e2


def rotation_matrix(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """3x3 rotation matrix (Rodrigues) about a unit axis by angle_rad (rad)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * (k @ k)
