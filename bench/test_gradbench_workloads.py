"""GradBench's evaluations in every backend (bench.backends.workloads), at the quick sizes.

Every (evaluation, backend) pair either agrees with torch eager to 1e-10 relative or has a
reason it cannot run; the three evaluations without a published reference here (ba, ht,
hello) are checked against code that shares nothing with theirs: scipy's rotations, loops
over bones and observations, central differences, a closed form.
"""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from bench.backends import BACKENDS
from bench.backends.workloads import (
    WORKLOAD_BACKENDS,
    WORKLOADS,
    PreparedWorkload,
    prepare_workload,
    unsupported,
)
from bench.workloads.gradbench import ba, ht

pytest.importorskip("torch")

# NOTE: jax eager differentiates the nested solvers op by op under jax.grad, about 40x the
# CPU of dezero or torch (a minute at the quick sizes), and compiles each of ht's many
# primitives on its first call (about a minute): those three pairs run with -m slow.
SLOW = {("saddle", "jax"), ("particle", "jax"), ("ht", "jax")}
PAIRS = [
    pytest.param(w, b, id=f"{w}-{b}", marks=[pytest.mark.slow] if (w, b) in SLOW else [])
    for w in WORKLOADS
    for b in WORKLOAD_BACKENDS
    if b != "torch"
]
# what each backend cannot do, and so must say: replay is first-order with fixed control
# flow, jit cannot loop on values
CANNOT = {
    ("kmeans", "dezero_replay"), ("ht", "dezero_replay"), ("saddle", "dezero_replay"),
    ("particle", "dezero_replay"), ("saddle", "jax_jit"), ("particle", "jax_jit"),
}  # fmt: skip


def rel_diff(ours, theirs) -> float:
    """Largest over the outputs of max|ours - theirs| / max|theirs|; shapes must match."""
    worst = 0.0
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape, (a.shape, b.shape)
        scale = max(float(np.max(np.abs(b))), np.finfo(np.float64).tiny)
        worst = max(worst, float(np.max(np.abs(a - b))) / scale)
    return worst


@pytest.fixture(scope="module")
def quick_outputs():
    """Each (evaluation, backend)'s outputs at the quick size, computed once."""
    cache = {}

    def get(workload, backend):
        if (workload, backend) not in cache:
            size = WORKLOADS[workload].quick[0]
            cache[workload, backend] = prepare_workload(backend, workload, size).call()
        return cache[workload, backend]

    return get


@pytest.mark.parametrize(("workload", "backend"), PAIRS)
def test_every_backend_agrees_with_torch_or_says_why(workload, backend, quick_outputs):
    reason = unsupported(backend, workload)
    if (workload, backend) in CANNOT:
        assert reason and len(reason) > 20, reason
        with pytest.raises(ValueError, match=backend):
            prepare_workload(backend, workload, WORKLOADS[workload].quick[0])
        return
    assert reason is None
    ours, theirs = quick_outputs(workload, backend), quick_outputs(workload, "torch")
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in ours)
    assert rel_diff(ours, theirs) <= 1e-10, (workload, backend)


def test_rel_diff_sees_one_wrong_element_and_a_wrong_shape():
    good = [np.array([1.0, -4.0])]
    assert rel_diff(good, good) == 0.0
    assert rel_diff([np.array([1.0, -4.0 + 4e-9])], good) == pytest.approx(1e-9)
    with pytest.raises(AssertionError):
        rel_diff([np.array([[1.0, -4.0]])], good)


@pytest.mark.parametrize("workload", ["gmm", "lstm", "ba", "det"])
def test_replay_is_bitwise_eager_dezero(workload, quick_outputs):
    ours, theirs = quick_outputs(workload, "dezero_replay"), quick_outputs(workload, "dezero")
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_workload_backends_are_registered_backends():
    assert set(WORKLOAD_BACKENDS) <= set(BACKENDS)
    assert len(WORKLOADS) == 12


def test_grids_are_well_formed():
    for w in WORKLOADS.values():
        assert w.quick and w.default and w.sizes, w.name
        assert all(size in w.sizes for size in w.default), w.name
        assert len({w.size_label(s) for s in w.sizes}) == len(w.sizes), w.name
    assert WORKLOADS["gmm"].size_label({"d": 2, "k": 5, "n": 1000}) == "d=2,k=5,n=1000"


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_inputs_are_deterministic(workload):
    size = WORKLOADS[workload].quick[0]
    assert _same(WORKLOADS[workload].inputs(size), WORKLOADS[workload].inputs(size))


def test_compile_seconds_come_from_the_first_call_of_jit_and_replay():
    for backend in ("jax_jit", "dezero_replay"):
        prepared = prepare_workload(backend, "hello", {"x": 2.0})
        assert isinstance(prepared, PreparedWorkload) and prepared.compile_seconds is None
        prepared.call()
        assert prepared.compile_seconds > 0, backend
    eager = prepare_workload("torch", "hello", {"x": 2.0})
    eager.call()
    assert eager.compile_seconds is None


def test_bad_names_and_dtypes_are_named():
    with pytest.raises(ValueError, match="'caffe'"):
        unsupported("caffe", "gmm")  # not a registered backend
    with pytest.raises(ValueError, match="'hessian'"):
        prepare_workload("torch", "hessian", {})
    with pytest.raises(ValueError, match="float32"):
        prepare_workload("torch", "gmm", WORKLOADS["gmm"].quick[0], dtype=np.float32)


def test_hello_is_the_square_and_its_double(quick_outputs):
    for backend in ("dezero", "jax", "autograd"):
        square, double = quick_outputs("hello", backend)
        assert square == 4.0 and double == 4.0 and square.shape == ()


# ----------------------------------------------------------------------------- ba
def _project(cam, X):
    """ADBench's projection of one point, rotation by scipy."""
    Xcam = Rotation.from_rotvec(cam[0:3]).apply(X - cam[3:6])
    xy = Xcam[:2] / Xcam[2]
    rsq = xy @ xy
    return xy * (1 + cam[9] * rsq + cam[10] * rsq**2) * cam[6] + cam[7:9]


def _ba_residuals(rows, feats):
    """[w (project - feature)] per observation from (p, 15) rows of camera, point, weight."""
    return np.array([r[14] * (_project(r[:11], r[11:14]) - f) for r, f in zip(rows, feats)])


def test_ba_matches_a_loop_over_observations_and_central_differences(quick_outputs):
    (cams, X, w), consts = ba.ba_inputs(WORKLOADS["ba"].quick[0])
    rows = np.hstack([cams[consts["camera_of"]], X[consts["point_of"]], w[:, None]])
    reproj, w_err, d_cam, d_point, d_w, dw = quick_outputs("ba", "torch")
    expected = _ba_residuals(rows, consts["feats"])
    assert np.allclose(reproj, expected, rtol=1e-12, atol=0)
    assert np.allclose(w_err, 1 - w * w, rtol=1e-12) and np.allclose(dw, -2 * w, rtol=1e-12)
    blocks = np.concatenate([d_cam, d_point, d_w[:, :, None]], axis=2)  # (p, 2, 15)
    for k in range(15):
        h = 1e-6 * max(1.0, np.max(np.abs(rows[:, k])))
        up, down = rows.copy(), rows.copy()
        up[:, k] += h
        down[:, k] -= h
        fd = (_ba_residuals(up, consts["feats"]) - _ba_residuals(down, consts["feats"])) / (2 * h)
        assert np.allclose(blocks[:, :, k], fd, rtol=1e-5, atol=1e-5 * np.max(np.abs(fd))), k


def test_ba_points_stay_well_in_front_of_or_behind_every_camera():
    # the projection divides by the depth: the drawn inputs keep it away from zero
    (cams, X, _), consts = ba.ba_inputs(WORKLOADS["ba"].sizes[0])
    c, p = cams[consts["camera_of"]], X[consts["point_of"]]
    depth = Rotation.from_rotvec(c[:, :3]).apply(p - c[:, 3:6])[:, 2]
    assert np.min(np.abs(depth)) > 1.0


# ----------------------------------------------------------------------------- ht
def _ht_reference(us, theta, consts):
    """The hand's residuals bone by bone, as ADBench writes them, rotations by scipy."""
    pose = np.zeros((3 + len(ht.PARENTS), 3))
    pose[0], pose[1], pose[2] = theta[0:3], 1.0, theta[3:6]
    i_theta, row = 6, 5
    for _finger in range(5):
        for joint in (1, 2, 3):
            pose[row, 0] = theta[i_theta]
            i_theta += 1
            if joint == 1:
                pose[row, 1] = theta[i_theta]
                i_theta += 1
            row += 1
        row += 1
    absolutes = []
    for b, parent in enumerate(ht.PARENTS):
        tx, tz, ty = pose[3 + b]  # ADBench's (x, z, y) order, and its y rotation reversed
        posed = np.eye(4)
        posed[:3, :3] = Rotation.from_euler("ZYX", [tz, -ty, tx]).as_matrix()
        relative = consts["relatives"][b] @ posed
        absolutes.append(relative if parent < 0 else absolutes[parent] @ relative)
    weights = consts["weights"][:, :, 0]
    verts = np.zeros((consts["positions"].shape[0], 3))
    for b, absolute in enumerate(absolutes):
        moved = consts["positions"] @ (absolute @ consts["inverse_absolutes"][b]).T
        verts += weights[b][:, None] * moved[:, :3]
    glob = Rotation.from_rotvec(pose[0]).as_matrix() * pose[1]
    verts = verts @ glob.T + pose[2]
    a, b, c = (verts[consts["corners"][:, j]] for j in range(3))
    u0, u1 = us[:, :1], us[:, 1:]
    return consts["points"] - (u0 * a + u1 * b + (1 - u0 - u1) * c)


def test_ht_matches_a_loop_over_bones_and_central_differences(quick_outputs):
    (us, theta), consts = ht.ht_inputs(WORKLOADS["ht"].quick[0])
    err, d_us, d_theta = quick_outputs("ht", "torch")
    assert np.allclose(err, _ht_reference(us, theta, consts), rtol=1e-12, atol=1e-14)
    h = 1e-6
    for j in range(2):  # a point's residual depends on its own us only: one column for all
        step = np.zeros_like(us)
        step[:, j] = h
        fd = _ht_reference(us + step, theta, consts) - _ht_reference(us - step, theta, consts)
        assert np.allclose(d_us[:, :, j], fd / (2 * h), rtol=1e-6, atol=1e-8), j
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = h
        fd = _ht_reference(us, theta + step, consts) - _ht_reference(us, theta - step, consts)
        assert np.allclose(d_theta[:, :, j], fd / (2 * h), rtol=1e-6, atol=1e-8), j
