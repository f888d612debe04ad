"""lstm: ADBench's LSTM text model's loss and its gradient.

GradBench reads its character sequence from a text file it ships; here the sequence is
random bits of the same shape (14 bits a character, as ADBench's files), drawn with
GradBench's seed, and the weights and state uniform in [0, 1) as its generator draws them.
"""

import numpy as np

from bench.workloads.gradbench.workload import SEED, Workload, grid, objective_and_gradients

LSTM_CHAR_BITS = 14


def lstm_inputs(size):
    layers, chars, b = size["l"], size["c"], LSTM_CHAR_BITS
    rng = np.random.default_rng(SEED)
    state = rng.uniform(size=(2 * layers, b))
    main = rng.uniform(size=(2 * layers, 4 * b))
    extra = rng.uniform(size=(3, b))
    sequence = rng.integers(0, 2, size=(chars, b)).astype(np.float64)
    return [main, extra], {"state": state, "sequence": sequence}


def lstm(ops, main, extra, state, sequence):
    """ADBench's LSTM: diagonal weights, gates from (input, hidden, input, hidden), and its
    log(sum(exp) + 2) normaliser. The characters are an `ops.scan`, so JAX traces one step
    rather than c unrolled ones."""
    layers, b = state.shape[0] // 2, state.shape[1]
    weight = [main[2 * i] for i in range(layers)]
    bias = [main[2 * i + 1] for i in range(layers)]
    w_in, w_out, b_out = extra[0], extra[1], extra[2]

    def step(carry, chars):
        hidden, cell, total = carry
        now, after = chars
        hidden, cell = list(hidden), list(cell)
        x = now * w_in
        for i in range(layers):
            gates = ops.concatenate([x, hidden[i], x, hidden[i]]) * weight[i] + bias[i]
            forget, ingate = ops.sigmoid(gates[:b]), ops.sigmoid(gates[b : 2 * b])
            outgate, change = ops.sigmoid(gates[2 * b : 3 * b]), ops.tanh(gates[3 * b :])
            cell[i] = cell[i] * forget + ingate * change
            hidden[i] = outgate * ops.tanh(cell[i])
            x = hidden[i]
        ypred = x * w_out + b_out
        ynorm = ypred - ops.log(ops.sum(ops.exp(ypred)) + 2)
        return hidden, cell, total + ops.sum(after * ynorm)

    hidden = [ops.const(state[2 * i]) for i in range(layers)]
    cell = [ops.const(state[2 * i + 1]) for i in range(layers)]
    start = (hidden, cell, ops.const(np.zeros(())))
    _, _, total = ops.scan(step, start, (ops.const(sequence[:-1]), ops.const(sequence[1:])))
    return -total / ((len(sequence) - 1) * b)


WORKLOAD = Workload(
    "lstm",
    lstm_inputs,
    objective_and_gradients(lstm),
    sizes=grid(l=(2, 4, 6), c=(1024, 4096, 8192)),
    default=grid(l=(2,), c=(1024,)),
    quick=grid(l=(2,), c=(8,)),
)
