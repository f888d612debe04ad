"""ba: bundle adjustment's residuals and their sparse Jacobian (ADBench's, via GradBench).

Each of p observations sees point X[j % m] from camera j % n (GradBench's pattern). A
camera is 11 numbers: an angle-axis rotation, its centre, the focal length, the principal
point and two radial distortion terms. The residual of an observation is
w * (project(camera, X) - feature), two numbers, and each weight adds 1 - w^2.

GradBench ships one camera, point, weight and feature per size and repeats them; here every
camera, point, weight and feature is its own draw (with GradBench's seed) within 10% of the
values GradBench ships, so copies cannot hide a mixed-up index and every projection keeps
its depth well away from zero. Sizes (n, m, p) are GradBench's ba1..ba20 (its default run
stops at ba14).

The outputs are the Jacobian's non-zero blocks, not its COO encoding: an observation's two
residuals depend only on its camera, its point and its weight, so the gradient of each
residual row's sum with respect to per-observation copies of those inputs is that row of
every block at once (two reverse passes), and 1 - w^2 one more. The rotation is written
for a non-zero angle, as every camera here has (GradBench branches on exactly zero).
"""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload

# GradBench's shipped camera (rotation, centre, focal length, principal point, distortion),
# point, weight and feature, the centres of the draws.
CAMERA = (-0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673, 419.194514,
          5.864426, -8.518870, 0.087812, 0.002739)  # fmt: skip
POINT = (7.203245, 0.001144, 3.023326)
WEIGHT = 0.417022
FEATURE = (271.760969, 834.209256)
SPREAD = 0.1
# GradBench's ba1..ba20: (cameras n, points m, observations p)
SIZES = ((49, 7776, 31843), (21, 11315, 36455), (161, 48126, 182072), (372, 47423, 204472),
         (257, 65132, 225911), (539, 65220, 277273), (93, 61203, 287451), (88, 64298, 383937),
         (810, 88814, 393775), (1197, 126327, 563734), (1723, 156502, 678718),
         (253, 163691, 899155), (245, 198739, 1091386), (356, 226730, 1255268),
         (1102, 780462, 4052340), (1544, 942409, 4750193), (1778, 993923, 5001946),
         (1936, 649673, 5213733), (4585, 1324582, 9125125), (13682, 4456117, 2987644))  # fmt: skip
# cyclic column orders for a cross product: (a x b) = a[NEXT] * b[LAST] - a[LAST] * b[NEXT]
NEXT, LAST = np.array([1, 2, 0]), np.array([2, 0, 1])


def ba_inputs(size):
    n, m, p = size["n"], size["m"], size["p"]
    rng = np.random.default_rng(SEED)

    def near(centre, count):
        centre = np.asarray(centre, dtype=np.float64)
        return centre * (1 + SPREAD * rng.uniform(-1, 1, size=(count, *centre.shape)))

    cams, X, w, feats = near(CAMERA, n), near(POINT, m), near(WEIGHT, p), near(FEATURE, p)
    j = np.arange(p)
    return [cams, X, w], {"camera_of": j % n, "point_of": j % m, "feats": feats}


def rotate(ops, rot, X):
    """Rodrigues' rotation of each row of X by the angle-axis row of rot."""
    theta = ops.sqrt(ops.sum(rot * rot, axis=1))
    cos, sin = ops.reshape(ops.cos(theta), (-1, 1)), ops.reshape(ops.sin(theta), (-1, 1))
    axis = rot / ops.reshape(theta, (-1, 1))
    cross = axis[:, NEXT] * X[:, LAST] - axis[:, LAST] * X[:, NEXT]
    along = ops.reshape(ops.sum(axis * X, axis=1), (-1, 1)) * (1 - cos)
    return X * cos + cross * sin + axis * along


def reprojection(ops, cams, X, w, feats):
    """w * (project(camera, X) - feature) per observation, (p, 2), from per-observation rows."""
    Xcam = rotate(ops, cams[:, 0:3], X - cams[:, 3:6])
    xy = Xcam[:, 0:2] / Xcam[:, 2:3]
    rsq = ops.reshape(ops.sum(xy * xy, axis=1), (-1, 1))
    distortion = 1 + cams[:, 9:10] * rsq + cams[:, 10:11] * rsq * rsq
    projected = xy * distortion * cams[:, 6:7] + cams[:, 7:9]
    return ops.reshape(w, (-1, 1)) * (projected - ops.const(feats))


def ba_jacobian(ops, params, consts):
    """[residuals (p, 2), 1 - w^2 (p,), d residuals / d (camera (p, 2, 11), point (p, 2, 3),
    weight (p, 2)), d (1 - w^2) / dw (p,)]."""
    cams, X, w = params
    rows = [cams[consts["camera_of"]], X[consts["point_of"]], w]
    feats = consts["feats"]
    values, blocks = [], []
    for r in (0, 1):
        y, grads = ops.value_and_grad(
            lambda c, x, w, r=r: reprojection(ops, c, x, w, feats)[:, r], rows
        )
        values.append(y)
        blocks.append(grads)
    w_err, (dw,) = ops.value_and_grad(lambda w: 1 - w * w, [w])
    stacked = [ops.stack([blocks[0][k], blocks[1][k]], axis=1) for k in range(3)]
    return [ops.value(v) for v in (ops.stack(values, axis=1), w_err, *stacked, dw)]


WORKLOAD = Workload(
    "ba",
    ba_inputs,
    ba_jacobian,
    sizes=tuple({"n": n, "m": m, "p": p} for n, m, p in SIZES),
    default=({"n": 49, "m": 7776, "p": 31843},),
    quick=({"n": 3, "m": 5, "p": 8},),
)
