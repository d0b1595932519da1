"""Orientation-free geometry: gravity/vertical, forward and left axes estimated from the data.

Nothing assumes how the sensor is mounted. Gravity is the mean specific force over a stretch of
running (over whole strides the body's own acceleration averages out), vertical is its direction.
`gravity_blocks` estimates it locally (a belt that slips or turns is followed), from blocks on a fixed grid
of the recording, so any window of a longer recording gives the same vertical at the same sample.
At the waist the forward axis is the horizontal direction of the braking acceleration just after
initial contact, and left = up x forward (right-handed sensor frame).
"""

from __future__ import annotations

import numpy as np

VERTICAL_CHUNK = 1 << 17
"""Rows per run of `moving_vertical_g` (its temporaries stay below a few MB at any length)."""


def gravity_direction(acc_g: np.ndarray, step: int = 1) -> np.ndarray:
    """Unit vector (sensor frame) of the mean specific force (g) = "up"; step subsamples for speed."""
    mean = np.asarray(acc_g[::step], dtype=np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if not np.isfinite(norm) or norm < 1e-6:
        return np.array([0.0, 0.0, 1.0])
    return mean / norm


def gravity_blocks(acc_g: np.ndarray, block: int, offset: int, step: int,
                   half_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Local gravity: (centres (K,) as sample indices, mean specific force (K, 3) in g) of the grid blocks
    of acc_g, each the mean over the blocks within +-half_blocks of it.

    Blocks of `block` samples start at local index `offset` (+ k * block, the recording's grid; a partial
    block at either end of acc_g counts with the samples it has); every `step`-th sample on that grid is
    used (step divides block). Each block's value depends only on its own neighbourhood's samples.
    """
    a = np.asarray(acc_g)
    offset = int(offset) % block
    used = a[offset % step::step]  # the samples on the grid (a view)
    m = used.shape[0]
    if m == 0:
        return np.zeros(1), gravity_direction(a)[None, :]
    # block of the first and last sample used (-1 for a partial block before the first grid boundary);
    # block k starts at sample offset + k * block, i.e. at the ceil((offset + k * block - offset % step) / step)-th
    b_first = (offset % step - offset) // block
    b_last = ((m - 1) * step + offset % step - offset) // block
    bids = np.arange(b_first, b_last + 1)
    first = np.maximum(-((offset % step - offset - bids * block) // step), 0)
    sums = np.add.reduceat(np.asarray(used, dtype=np.float64), first, axis=0)
    counts = np.diff(np.append(first, m)).astype(np.float64)
    h = int(half_blocks)
    pad_s = np.pad(sums, ((h, h), (0, 0)))
    pad_c = np.pad(counts, (h, h))
    nb = counts.shape[0]
    near, cnt = pad_s[:nb].copy(), pad_c[:nb].copy()
    for k in range(1, 2 * h + 1):  # element-wise sums in a fixed order: the same bits in any window
        near += pad_s[k:k + nb]
        cnt += pad_c[k:k + nb]
    return offset + bids * block + 0.5 * (block - 1), near / cnt[:, None]


def _gravity_at(blocks: tuple[np.ndarray, np.ndarray], at: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Gravity (g, its 3 components as (len(at),) arrays) linearly interpolated between the block centres
    (np.interp's formula, held at the end values) at sample indices `at`, and its norm (1 where it vanishes,
    the vector then (0, 0, 1)).

    Per piece between two centres the slope is computed once and spread over that piece's samples
    (`np.repeat`), so a long run of samples costs a few element-wise passes, no per-sample search.
    """
    centre, mean = blocks
    x = np.asarray(at, dtype=np.float64)
    order = None
    if x.size > 1 and not bool(np.all(x[1:] >= x[:-1])):
        order = np.argsort(x, kind="stable")
        x = x[order]
    # piece 0: before the first centre; piece k: [centre k-1, centre k); piece K: from the last centre on
    counts = np.diff(np.concatenate(([0], np.searchsorted(x, centre), [x.shape[0]])))
    dx = np.repeat(np.concatenate((centre[:1], centre)), counts)
    np.subtract(x, dx, out=dx)  # samples from the piece's left centre (or the first centre)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.diff(mean, axis=0) / np.diff(centre)[:, None]
    zero = np.zeros((1, 3))
    slopes = np.concatenate((zero, slope, zero))
    bases = np.concatenate((mean[:1], mean))
    g = []
    for j in range(3):
        gj = np.repeat(slopes[:, j], counts)
        gj *= dx
        gj += np.repeat(bases[:, j], counts)
        g.append(gj)
    norm = np.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2])
    bad = ~(norm > 1e-6)
    if bad.any():
        for j, value in enumerate((0.0, 0.0, 1.0)):
            g[j][bad] = value
        norm[bad] = 1.0
    if order is not None:
        back = np.empty_like(order)
        back[order] = np.arange(order.size)
        g, norm = [gj[back] for gj in g], norm[back]
    return g, norm


def moving_up(blocks: tuple[np.ndarray, np.ndarray], at: np.ndarray) -> np.ndarray:
    """Unit "up" (sensor frame, (len(at), 3)) at sample indices `at` from `gravity_blocks`."""
    g, norm = _gravity_at(blocks, at)
    return np.column_stack(g) / norm[:, None]


def moving_vertical_g(acc_g: np.ndarray, blocks: tuple[np.ndarray, np.ndarray], at: np.ndarray) -> np.ndarray:
    """Vertical specific force (g) of the rows acc_g, taken at sample indices `at`, along the local
    gravity of `gravity_blocks` there (= acc . up). Runs of VERTICAL_CHUNK rows at a time (small
    temporaries; each row's value is its own)."""
    a = np.asarray(acc_g, dtype=np.float64)
    v = np.empty(a.shape[0])
    for lo in range(0, a.shape[0], VERTICAL_CHUNK):
        hi = lo + VERTICAL_CHUNK
        g, norm = _gravity_at(blocks, at[lo:hi])
        out = v[lo:hi]
        np.multiply(g[0], a[lo:hi, 0], out=out)
        for j in (1, 2):
            g[j] *= a[lo:hi, j]
            out += g[j]
        out /= norm
    return v


def vertical_g(acc_g: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Vertical specific force in g (positive up; 1 g at rest) = acc_g . up."""
    return project(acc_g, up)


def project(acc_g: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Component (g) of (N, 3) vectors along a unit axis (column arithmetic: faster than a matmul)."""
    a = np.asarray(acc_g, dtype=np.float64)
    return np.einsum("ij,j->i", a, np.asarray(axis, dtype=np.float64))


def rotation_matrix(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """3x3 rotation matrix (Rodrigues) about a unit axis by angle_rad (rad)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * (k @ k)
