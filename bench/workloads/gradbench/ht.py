"""ht: hand tracking's residuals and Jacobian (ADBench's "complicated" variant, via GradBench).

A hand model (22 bones, ADBench's skeleton: wrist, four bones per finger, forearm) is posed
by 26 angles theta: a global angle-axis rotation, a translation, and one or two Euler angles
per finger joint. Each vertex moves with the bones it is weighted to (linear blend
skinning); each of c observed points is compared with a point u0 v0 + u1 v1 + (1 - u0 - u1)
v2 inside its corresponding triangle, so the parameters are the c pairs us and theta, and a
residual is three numbers.

GradBench reads the model and the observations from ADBench's files; here they are drawn
(with GradBench's seed) in the files' shapes: random bone transforms (the inverse base
absolutes consistent with them), `verts` vertices (10,000 in the big model, 544 in the
small one) each weighted to one to four bones with weights summing to one, 1,084 triangles,
correspondences, points around the hand, us in [0, 0.5), theta from a normal. ADBench never
mirrors the model, so the mirror flag is left out; the global rotation is written for a
non-zero angle, as every drawn theta has (GradBench branches below 1e-4).

The Jacobian is returned in GradBench's compressed form: with respect to us (c, 3, 2; a
point's residual depends only on its own us, so one reverse pass per residual coordinate
gives every block) and theta (c, 3, 26, by forward mode: 26 inputs, 3c outputs).
"""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload

PARENTS = (-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19, 0)
TRIANGLES = 1084
THETAS = 26
C_SIZES = (100, 192, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 100000)


def _pose_index():
    """Where each of the 25 x 3 pose parameters comes from in [0, 1, *theta]: rows global
    rotation, scale (ones), translation, then Euler angles per bone; of each finger's four
    bones the first has none, the second two angles, the third and fourth one."""
    source = np.zeros((3 + len(PARENTS), 3), dtype=np.intp)  # 0: the padded zero
    source[0], source[1], source[2] = (2, 3, 4), (1, 1, 1), (5, 6, 7)
    k = 2 + 6
    for finger in range(5):
        row = 3 + 2 + 4 * finger  # the finger's second bone
        for joint in range(3):
            for angle in range(2 if joint == 0 else 1):
                source[row + joint, angle] = k
                k += 1
    assert k == 2 + THETAS
    return source.ravel()


def _euler(ax, ay, az):
    """Numpy rotation Rz Ry Rx, for drawing the model's base transforms."""
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Rz @ Ry @ Rx


def _levels():
    """The bones by depth, each level's parents as positions among the levels before it,
    and the permutation back to bone order (absolute transforms, one matmul a level)."""
    depth = [0] * len(PARENTS)
    for b, parent in enumerate(PARENTS):
        depth[b] = 0 if parent < 0 else depth[parent] + 1
    order = sorted(range(len(PARENTS)), key=lambda b: depth[b])
    position = {b: i for i, b in enumerate(order)}
    levels = []
    for d in range(1, max(depth) + 1):
        bones = [b for b in order if depth[b] == d]
        levels.append((np.array(bones), np.array([position[PARENTS[b]] for b in bones])))
    roots = np.array([b for b in order if depth[b] == 0])
    return roots, levels, np.argsort(order)


def ht_inputs(size):
    c, verts = size["c"], size["verts"]
    rng = np.random.default_rng(SEED)
    bones = len(PARENTS)
    relatives = np.zeros((bones, 4, 4))
    for b in range(bones):
        relatives[b, :3, :3] = _euler(*rng.uniform(-0.5, 0.5, size=3))
        relatives[b, :3, 3] = rng.uniform(-0.05, 0.05, size=3)
        relatives[b, 3, 3] = 1.0
    absolutes = np.zeros_like(relatives)
    for b, parent in enumerate(PARENTS):  # parents come before their children
        absolutes[b] = relatives[b] if parent < 0 else absolutes[parent] @ relatives[b]
    # one to four bones a vertex, a random choice of them, weights summing to one
    count = rng.integers(1, 5, size=(verts, 1))
    rank = np.argsort(np.argsort(rng.uniform(size=(verts, bones)), axis=1), axis=1)
    share = np.where(rank < count, rng.uniform(0.1, 1.0, size=(verts, bones)), 0.0)
    weights = share / share.sum(axis=1, keepdims=True)
    positions = np.ones((verts, 4))
    positions[:, :3] = rng.uniform(-0.1, 0.1, size=(verts, 3))
    triangles = rng.integers(0, verts, size=(TRIANGLES, 3))
    correspondences = rng.integers(0, TRIANGLES, size=c)
    theta = rng.normal(size=THETAS)
    points = theta[3:6] + rng.normal(scale=0.1, size=(c, 3))
    us = rng.uniform(0, 0.5, size=(c, 2))
    roots, levels, unorder = _levels()
    consts = {
        "relatives": relatives,
        "inverse_absolutes": np.linalg.inv(absolutes),
        "positions": positions,
        "weights": weights.T.reshape(bones, verts, 1).copy(),
        "corners": triangles[correspondences],
        "points": points,
        "tree": (roots, levels, unorder),
    }
    return [us, theta], consts


def _basis(entries):
    m = np.zeros((3, 3))
    for (i, j), value in entries:
        m[i, j] = value
    return m


# R = fixed + cos(angle) C + sin(angle) S about each axis: rotations of a batch of angles
# built from constants by broadcasting, no element assignment (which jax and dezero lack)
ROTATIONS = {  # axis: (fixed part, cosine part, sine part)
    "x": (_basis([((0, 0), 1)]), _basis([((1, 1), 1), ((2, 2), 1)]),
          _basis([((2, 1), 1), ((1, 2), -1)])),
    "y": (_basis([((1, 1), 1)]), _basis([((0, 0), 1), ((2, 2), 1)]),
          _basis([((2, 0), 1), ((0, 2), -1)])),
    "z": (_basis([((2, 2), 1)]), _basis([((0, 0), 1), ((1, 1), 1)]),
          _basis([((1, 0), 1), ((0, 1), -1)])),
}  # fmt: skip
CROSS = np.array([_basis([((2, 1), 1), ((1, 2), -1)]), _basis([((0, 2), 1), ((2, 0), -1)]),
                  _basis([((1, 0), 1), ((0, 1), -1)])])  # fmt: skip
EMBED = np.eye(4, 3)  # 3x3 into the top-left of 4x4
CORNER = np.zeros((4, 4))
CORNER[3, 3] = 1.0


def _rotation(ops, axis, angle):
    fixed, cos_part, sin_part = ROTATIONS[axis]
    angle = ops.reshape(angle, (-1, 1, 1))
    return (
        ops.const(fixed)
        + ops.cos(angle) * ops.const(cos_part)
        + ops.sin(angle) * ops.const(sin_part)
    )


def _angle_axis(ops, v):
    """The rotation by |v| about v / |v| (Rodrigues' formula as a matrix)."""
    n = ops.sqrt(ops.sum(v * v))
    k = v / n
    outer = ops.reshape(k, (3, 1)) * ops.reshape(k, (1, 3))
    skew = ops.sum(ops.reshape(k, (3, 1, 1)) * ops.const(CROSS), axis=0)
    return ops.cos(n) * ops.const(np.eye(3)) + (1 - ops.cos(n)) * outer + ops.sin(n) * skew


def residuals(ops, us, theta, relatives, inverse_absolutes, positions, weights, corners,
              points, tree):  # fmt: skip
    """points - the corresponding hand points, (c, 3)."""
    padded = ops.concatenate([ops.const(np.array([0.0, 1.0])), theta])
    pose = ops.reshape(padded[POSE_INDEX], (-1, 3))
    angles = pose[3:]
    R = ops.matmul(
        ops.matmul(_rotation(ops, "z", angles[:, 1]), _rotation(ops, "y", angles[:, 2])),
        _rotation(ops, "x", angles[:, 0]),
    )
    posed = ops.matmul(ops.matmul(ops.const(EMBED), R), ops.const(EMBED.T)) + ops.const(CORNER)
    relative = ops.matmul(ops.const(relatives), posed)
    roots, levels, unorder = tree
    absolute = relative[roots]
    for bones, parents in levels:
        absolute = ops.concatenate([absolute, ops.matmul(absolute[parents], relative[bones])])
    transforms = ops.matmul(absolute[unorder], ops.const(inverse_absolutes))
    moved = ops.matmul(ops.const(positions), ops.transpose(transforms, (0, 2, 1)))
    skinned = ops.sum(moved[:, :, :3] * ops.const(weights), axis=0)  # (verts, 3)
    glob = _angle_axis(ops, pose[0]) * pose[1]  # scales the columns, as ADBench does
    verts = ops.matmul(skinned, ops.transpose(glob, (1, 0))) + pose[2]
    u0, u1 = us[:, 0:1], us[:, 1:2]
    hand = u0 * verts[corners[:, 0]] + u1 * verts[corners[:, 1]]
    hand = hand + (1 - u0 - u1) * verts[corners[:, 2]]
    return ops.const(points) - hand


POSE_INDEX = _pose_index()


def ht_jacobian(ops, params, consts):
    """[residuals (c, 3), d/d us (c, 3, 2), d/d theta (c, 3, 26)]."""
    us, theta = params
    values, d_us = [], []
    for k in range(3):
        y, (g, _) = ops.value_and_grad(
            lambda u, t, k=k: residuals(ops, u, t, **consts)[:, k], [us, theta]
        )
        values.append(y)
        d_us.append(g)
    d_theta = ops.jacfwd(lambda t: residuals(ops, us, t, **consts), theta)
    return [
        ops.value(ops.stack(values, axis=1)),
        ops.value(ops.stack(d_us, axis=1)),
        ops.value(d_theta),
    ]


def _sizes(verts):
    return tuple({"c": c, "verts": verts} for c in C_SIZES)


WORKLOAD = Workload(
    "ht",
    ht_inputs,
    ht_jacobian,
    sizes=_sizes(544) + _sizes(10000),
    default=({"c": 100, "verts": 544}, {"c": 100, "verts": 10000}),
    quick=({"c": 6, "verts": 40},),
    nested="the theta Jacobian is forward mode, which dezero forms as reverse over reverse",
)
