"""Vectorised rotations of (N, 3) vectors by per-sample angles, and random rotation matrices."""

from __future__ import annotations

import numpy as np


def rot_x(v: np.ndarray, a: np.ndarray | float) -> np.ndarray:
    """Rotate vectors v (N, 3) about x by angle a (rad, per sample or scalar)."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([v[:, 0], c * v[:, 1] - s * v[:, 2], s * v[:, 1] + c * v[:, 2]], axis=1)


def rot_y(v: np.ndarray, a: np.ndarray | float) -> np.ndarray:
    """Rotate vectors v (N, 3) about y by angle a (rad); positive a turns z toward x."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * v[:, 0] + s * v[:, 2], v[:, 1], -s * v[:, 0] + c * v[:, 2]], axis=1)


def rot_z(v: np.ndarray, a: np.ndarray | float) -> np.ndarray:
    """Rotate vectors v (N, 3) about z by angle a (rad)."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], axis=1)


def axis_angle_matrix(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """3x3 rotation matrix of angle_rad (rad) about a unit axis (Rodrigues)."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * K + (1 - np.cos(angle_rad)) * (K @ K)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """Uniformly random 3x3 rotation matrix (from a random unit quaternion)."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def apply_matrix(v: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Rotate vectors v (N, 3) by a fixed 3x3 matrix m (v @ m.T, column by column: faster than matmul)."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    return np.stack([m[i, 0] * x + m[i, 1] * y + m[i, 2] * z for i in range(3)], axis=1)
