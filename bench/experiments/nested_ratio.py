"""Nested differentiation and graph recording against torch eager.

`python -m bench.experiments.nested_ratio`.

One run, float64, one thread, interleaved medians (bench.experiments.ratio.interleaved_medians):
1. The nested quadratic: T inner steps p <- p - 0.1 * grad(sum(p**2 * w), p) with
   create_graph, then the gradient of sum(p**2) w.r.t. w (T = 100, 400).
2. A small saddle problem: the outer gradient of f(x, y*(x)) through K inner ascent
   steps on y, for J outer steps.
3. LSTM-like recording (no backward): µs per op at ~11k and ~184k ops, the collector on.
4. `sum(x[:-1])` forward + backward at n = 10**4, and its adjoint alone against np.add.at.
"""

import argparse
import gc
import time

import numpy as np

import dezero
import dezero.functions as F
from bench.experiments.ratio import interleaved_medians
from bench.machine import configure
from dezero import array_ops


def nested_quadratic(ops, w, p, steps):
    for _ in range(steps):
        p = p - 0.1 * ops.grad(ops.sum(p**2 * w), p)
    return ops.grad(ops.sum(p**2), w, create_graph=False)


def saddle(ops, x, y0, outer, inner):
    for _ in range(outer):
        xv = ops.leaf(x)
        y = ops.leaf(y0)
        for _ in range(inner):  # gradient ascent on y, recorded so x's gradient sees it
            y = y + 0.1 * ops.grad(_saddle_f(ops, xv, y), y)
        gx = ops.grad(_saddle_f(ops, xv, y), xv, create_graph=False)
        x = x - 0.1 * ops.value(gx)
    return x


def _saddle_f(ops, x, y):
    return ops.sum(x * y + ops.cos(x)) - ops.sum(y**2)


class DezeroOps:
    def __init__(self):
        self.dezero, self.sum, self.cos = dezero, F.sum, F.cos

    def grad(self, y, x, create_graph=True):
        return self.dezero.grad(y, x, create_graph=create_graph)[0]

    def leaf(self, a):
        return self.dezero.Variable(a)

    def value(self, v):
        return v.data


class TorchOps:
    def __init__(self):
        import torch  # optional and slow to import: only when the experiment runs

        self.torch, self.sum, self.cos = torch, torch.sum, torch.cos

    def grad(self, y, x, create_graph=True):
        return self.torch.autograd.grad(y, x, create_graph=create_graph)[0]

    def leaf(self, a):
        return self.torch.tensor(a, requires_grad=True)

    def value(self, v):
        return v.detach().numpy()


def lstm_record(F, Variable, W, steps, hidden):
    """Records an LSTM-like graph: 16 ops a step (two matmuls, slices, gates, products)."""
    h = c = Variable(np.zeros((1, hidden)))
    xs = np.random.default_rng(1).standard_normal((steps, 1, hidden))
    for x in xs:
        z = F.matmul(x, W[0]) + F.matmul(h, W[1]) + W[2]
        i, f = F.sigmoid(z[:, :hidden]), F.sigmoid(z[:, hidden : 2 * hidden])
        o, g = F.sigmoid(z[:, 2 * hidden : 3 * hidden]), F.tanh(z[:, 3 * hidden :])
        c = f * c + i * g
        h = o * F.tanh(c)
    return h


LSTM_OPS_PER_STEP = 16


def _recording_us_per_op(ops, repeats, hidden=4):
    rng = np.random.default_rng(0)
    W = [
        dezero.Variable(rng.standard_normal(s) * 0.1)
        for s in ((hidden, 4 * hidden), (hidden, 4 * hidden), (4 * hidden,))
    ]
    steps = ops // LSTM_OPS_PER_STEP
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        h = lstm_record(F, dezero.Variable, W, steps, hidden)
        samples.append((time.perf_counter() - start) / (steps * LSTM_OPS_PER_STEP))
        del h
    return float(np.median(samples)) * 1e6


def _slice_runs(n):
    import torch  # optional and slow to import: only when the experiment runs

    x0 = np.random.default_rng(0).standard_normal(n)
    gy = np.ones(n - 1)

    def dezero_run():
        x = dezero.Variable(x0)
        F.sum(x[:-1]).backward()

    def torch_run():
        x = torch.tensor(x0, requires_grad=True)
        torch.sum(x[:-1]).backward()

    def add_at():
        gx = np.zeros(n)
        np.add.at(gx, slice(None, -1), gy)

    def assign():
        array_ops.get_item_grad(gy, slice(None, -1), (n,))

    return {"dezero": dezero_run, "torch": torch_run, "np.add.at": add_at, "assign": assign}


def main(argv=None):
    configure()  # threads, device and allocator, before anything is timed
    parser = argparse.ArgumentParser(
        prog="python -m bench.experiments.nested_ratio", description=__doc__
    )
    parser.add_argument("--repeats", type=int, default=7, help="samples per case (default 7)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    import torch  # optional and slow to import: only when the experiment runs
    from threadpoolctl import threadpool_limits  # the bench extra

    torch.set_num_threads(1)
    dz, th = DezeroOps(), TorchOps()
    rng = np.random.default_rng(0)
    w0, p0 = rng.uniform(0.1, 1.0, 10), rng.standard_normal(10)
    x0, y0 = rng.standard_normal(4), np.zeros(4)
    with threadpool_limits(1):
        print("case                      dezero ms   torch ms   dezero/torch")
        for T in (100, 400):
            runs = {
                "dezero": lambda T=T: nested_quadratic(dz, dz.leaf(w0), dz.leaf(p0), T),
                "torch": lambda T=T: nested_quadratic(th, th.leaf(w0), th.leaf(p0), T),
            }
            _row(f"nested quadratic T={T}", interleaved_medians(runs, args.repeats))
        runs = {
            "dezero": lambda: saddle(dz, x0, y0, 10, 10),
            "torch": lambda: saddle(th, x0, y0, 10, 10),
        }
        _row("saddle 10 x 10 (rr)", interleaved_medians(runs, args.repeats))
        _row("sum(x[:-1]) n=1e4 f+b", interleaved_medians(_slice_runs(10**4), args.repeats, 50))
        times = interleaved_medians(_slice_runs(10**4), args.repeats, 200)
        ratio = times["np.add.at"] / times["assign"]
        print(
            f"x[:-1] adjoint n=1e4: np.add.at {times['np.add.at'] * 1e6:.1f} us, "
            f"slice assignment {times['assign'] * 1e6:.1f} us ({ratio:.0f}x)"
        )
        print(f"LSTM-like recording, collector {'on' if gc.isenabled() else 'OFF'}:")
        small = _recording_us_per_op(11_000, args.repeats)
        large = _recording_us_per_op(184_000, max(3, args.repeats // 2))
        print(f"  11k ops {small:.2f} us/op, 184k ops {large:.2f} us/op ({large / small:.2f}x)")


def _row(name, times):
    d, t = times["dezero"], times["torch"]
    print(f"{name:<25} {d * 1e3:9.2f} {t * 1e3:10.2f} {d / t:14.2f}")


if __name__ == "__main__":
    main()
