"""Training-step ratios, dezero vs PyTorch eager, one thread.

`python -m bench.experiments.training`.

1. The book's spiral MLP (step 48: 2 -> hidden -> 3, sigmoid, softmax cross-entropy,
   SGD), one whole training step on a batch of 30: forward, loss, clear gradients,
   backward, update. Hidden 10 and 100.
2. conv2d forward + backward (gradients of x, W and b) on a (32, 3, 32, 32) batch,
   16 output channels, 3x3 kernel, pad 1.

Each pair runs round-robin in one process (bench.experiments.ratio.interleaved_medians), so machine
noise hits both alike; the figure is the ratio of medians (dezero / torch).
"""

import argparse

import numpy as np

import dezero.functions as F
from bench.experiments.ratio import interleaved_medians
from bench.machine import configure
from bench.machine.threads import pin_torch
from dezero import Variable, datasets, optimizers
from dezero.models import MLP


def mlp_step_runs(hidden, dtype, batch=30):
    """Two callables, each one training step of the same MLP on the same batch."""
    import torch  # optional and slow to import: only when the experiment runs

    x, t = datasets.get_spiral()
    x, t = x[:batch].astype(dtype), t[:batch]
    np.random.seed(0)
    model = MLP((hidden, 3))
    model(x[:1])
    for p in model.params():
        p.data = p.data.astype(dtype)
    optimizer = optimizers.SGD(lr=0.1).setup(model)

    def dezero_step():
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()

    torch_dtype = getattr(torch, np.dtype(dtype).name)
    cpu = torch.device("cpu")  # explicit, like dezero's numpy: a CPU-to-CPU comparison
    net = torch.nn.Sequential(
        torch.nn.Linear(2, hidden, dtype=torch_dtype, device=cpu),
        torch.nn.Sigmoid(),
        torch.nn.Linear(hidden, 3, dtype=torch_dtype, device=cpu),
    )
    sgd = torch.optim.SGD(net.parameters(), lr=0.1)
    xt, tt = torch.tensor(x, device=cpu), torch.tensor(t, device=cpu)

    def torch_step():
        loss = torch.nn.functional.cross_entropy(net(xt), tt)
        sgd.zero_grad()
        loss.backward()
        sgd.step()

    return {"dezero": dezero_step, "torch": torch_step}


def conv_runs(dtype, shape=(32, 3, 32, 32), out_channels=16, kernel=3, pad=1):
    import torch  # optional and slow to import: only when the experiment runs

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal((out_channels, shape[1], kernel, kernel)).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    xv, Wv, bv = Variable(x), Variable(W), Variable(b)

    def dezero_conv():
        for v in (xv, Wv, bv):
            v.cleargrad()
        F.sum(F.conv2d(xv, Wv, bv, stride=1, pad=pad)).backward()

    xt, Wt, bt = (torch.tensor(a, requires_grad=True, device="cpu") for a in (x, W, b))

    def torch_conv():
        for v in (xt, Wt, bt):
            v.grad = None
        torch.nn.functional.conv2d(xt, Wt, bt, stride=1, padding=pad).sum().backward()

    return {"dezero": dezero_conv, "torch": torch_conv}


def measure(repeats, dtype):
    """One row per workload: medians in microseconds and the dezero/torch ratio."""
    pin_torch()
    workloads = {
        "spiral MLP step, hidden 10, batch 30": (mlp_step_runs(10, dtype), repeats),
        "spiral MLP step, hidden 100, batch 30": (mlp_step_runs(100, dtype), repeats),
        "conv2d fwd+bwd (32,3,32,32) -> 16ch 3x3 pad 1": (conv_runs(dtype), max(repeats // 20, 5)),
    }
    rows = []
    for name, (runs, n) in workloads.items():
        medians = interleaved_medians(runs, n)
        rows.append(
            {
                "workload": name,
                "dezero_us": medians["dezero"] * 1e6,
                "torch_us": medians["torch"] * 1e6,
                "ratio": medians["dezero"] / medians["torch"],
            }
        )
    return rows


def main(argv=None):
    configure()  # threads, device and allocator, before anything is timed
    parser = argparse.ArgumentParser(
        prog="python -m bench.experiments.training", description=__doc__
    )
    parser.add_argument("--repeats", type=int, default=400, help="steps timed per MLP case")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    rows = measure(args.repeats, args.dtype)
    print(f"{'workload':48} {'dezero us':>10} {'torch us':>10} {'dezero/torch':>13}")
    for row in rows:
        print(
            f"{row['workload']:48} {row['dezero_us']:10.1f} {row['torch_us']:10.1f} "
            f"{row['ratio']:13.2f}"
        )


if __name__ == "__main__":
    main()
