"""The plain LSTM recurrence as one autograd node: `LSTMRecurrence` and `fused_lstm_steps`.

`LSTMRecurrence` runs the C++ forward over all steps and the hand-written backward through time
(`lstm_recurrence.cpp`), so a sequence costs two Python calls instead of ~10 autograd ops per step.
It computes what `LSTMCell.step` computes in torch's plain configuration (gate order i, f, g, o; both biases
already in `x_proj`).

Higher-order gradients are exact: when the backward itself is differentiated (`create_graph=True`,
`gradgradcheck`, `torch.func.grad` of a gradient) it recomputes the recurrence with differentiable torch
ops (`python_lstm_steps`) and returns autograd's gradient of that, so the second-order terms are never
dropped (for this the Function keeps `x_proj`: one more `(T, B, 4H)` tensor saved). The Function has
`setup_context` and `generate_vmap_rule`, so `torch.func.grad`, `functional_call` and `vmap` work (vmap of
the C++ ops uses torch's per-sample fallback loop).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.kernels.build import load_kernels

SUPPORTED_DTYPES = (torch.float32, torch.float64)


def python_lstm_steps(x_proj: Tensor, h0: Tensor, c0: Tensor, weight_hh: Tensor
                      ) -> tuple[Tensor, Tensor, Tensor]:
    """The same recurrence with differentiable torch ops: `(output (T, B, H), h_n (B, H), c_n (B, H))`."""
    h, c, outputs = h0, c0, []
    for x_t in x_proj.unbind(0):  # (B, 4H) each
        i, f, g, o = (x_t + h @ weight_hh.t()).chunk(4, dim=-1)  # 4 x (B, H)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()  # (B, H)
        h = o.sigmoid() * c.tanh()  # (B, H)
        outputs.append(h)
    return torch.stack(outputs), h, c  # (T, B, H), (B, H), (B, H)


class LSTMRecurrence(torch.autograd.Function):
    """`(x_proj (T, B, 4H), h0 (B, H), c0 (B, H), weight_hh (4H, H), raw_loop)` -> `(output, h_n, c_n)`.

    `raw_loop` (CPU only) runs the gate arithmetic as the kernel's own loop rather than as ATen ops.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x_proj: Tensor, h0: Tensor, c0: Tensor, weight_hh: Tensor, raw_loop: bool):
        # gates and cells are returned (marked non-differentiable) for the backward: torch.func needs every
        # saved tensor to be an input or an output
        return _kernels().lstm_recurrence_forward(x_proj, h0, c0, weight_hh, raw_loop)

    @staticmethod
    def setup_context(ctx, inputs, outputs) -> None:
        x_proj, h0, c0, weight_hh, raw_loop = inputs
        output, _, _, gates, cells = outputs
        ctx.mark_non_differentiable(gates, cells)
        ctx.save_for_backward(x_proj, output, gates, cells, h0, c0, weight_hh)
        ctx.raw_loop = raw_loop

    @staticmethod
    def backward(ctx, grad_output: Tensor, grad_h_n: Tensor, grad_c_n: Tensor, _grad_gates, _grad_cells):
        x_proj, output, gates, cells, h0, c0, weight_hh = ctx.saved_tensors
        need_x, need_h0, need_c0, need_weight, _ = ctx.needs_input_grad
        if torch.is_grad_enabled():  # the backward is itself differentiated: recompute differentiably
            grads = _differentiable_backward((x_proj, h0, c0, weight_hh), (grad_output, grad_h_n, grad_c_n))
            return (*grads, None)
        grad_x_proj, grad_h0, grad_c0, grad_weight_hh = _kernels().lstm_recurrence_backward(
            grad_output, grad_h_n, grad_c_n, output, gates, cells, h0, c0, weight_hh, need_weight,
            ctx.raw_loop,
        )
        return (grad_x_proj if need_x else None, grad_h0 if need_h0 else None,
                grad_c0 if need_c0 else None, grad_weight_hh if need_weight else None, None)


def _differentiable_backward(inputs: tuple[Tensor, ...], grad_outputs: tuple[Tensor | None, ...]
                             ) -> tuple[Tensor, ...]:
    """Vector-Jacobian product of `python_lstm_steps` at `inputs`, itself differentiable (by autograd and by
    torch.func's transforms alike: `torch.func.vjp` composes with both)."""
    outputs, vjp_fn = torch.func.vjp(python_lstm_steps, *inputs)
    cotangents = tuple(torch.zeros_like(out) if g is None else g
                       for out, g in zip(outputs, grad_outputs, strict=True))
    return vjp_fn(cotangents)


def fusable(x_proj: Tensor, state: tuple[Tensor, ...], weight_hh: Tensor) -> bool:
    """Whether `fused_lstm_steps` can run these tensors (kernel built, float32/64, one device, T > 0).

    Never under `torch.compile`, which traces the Python time loop instead (the C++ ops have no fake tensor
    implementation for it to trace), nor while `torch.onnx.export` traces (ONNX has no such op; the loop
    exports as plain ops). `torch.jit.trace` records the op itself, so a traced LSTM takes any length."""
    if torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export():
        return False
    if len(state) != 2 or x_proj.dim() != 3 or x_proj.shape[0] == 0:
        return False
    tensors = (x_proj, *state, weight_hh)
    if any(t.dtype != x_proj.dtype or t.device != x_proj.device for t in tensors):
        return False
    return x_proj.dtype in SUPPORTED_DTYPES and load_kernels() is not None


def fused_lstm_steps(x_proj: Tensor, state: tuple[Tensor, Tensor], weight_hh: Tensor
                     ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The plain LSTM over `x_proj (T, B, 4H)` from `state (h0 (B, H), c0 (B, H))` with `weight_hh (4H, H)`:
    `(output (T, B, H), (h_n, c_n))`, as `run_steps` with `LSTMCell.step` returns it."""
    if not fusable(x_proj, state, weight_hh):
        raise ValueError("fused_lstm_steps needs the built kernels, x_proj (T>0, B, 4H) and (h0, c0), "
                         "weight_hh of one float32/float64 dtype and device")
    h0, c0 = state
    # CPU: the kernel's own vectorized loop for the gate arithmetic (as fast as ATen's ops at B64 H512, and
    # 1.5x faster at B8 H64, where per-op overhead dominates); other devices: ATen ops.
    raw_loop = x_proj.device.type == "cpu"
    output, h_n, c_n, _, _ = LSTMRecurrence.apply(x_proj, h0, c0, weight_hh, raw_loop)
    return output, (h_n, c_n)


def _kernels():
    ops = load_kernels()
    if ops is None:
        raise RuntimeError("seqlab's C++ kernels are not available (see the warning given when loading them)")
    return ops
