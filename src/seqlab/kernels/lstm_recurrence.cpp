// The plain LSTM recurrence over a whole sequence, forward and backward through time, as two torch ops:
//
//   torch.ops.seqlab_kernels.lstm_recurrence_forward(x_proj, h0, c0, weight_hh, raw_loop)
//     -> (output (T,B,H), h_n (B,H), c_n (B,H), gates (T,B,4H) activated, cells (T,B,H))
//   torch.ops.seqlab_kernels.lstm_recurrence_backward(grad_output, grad_h_n, grad_c_n, output, gates, cells,
//       h0, c0, weight_hh, need_weight_grad, raw_loop)
//     -> (grad_x_proj (T,B,4H), grad_h0 (B,H), grad_c0 (B,H), grad_weight_hh (4H,H) or None)
//
// Equations (gate order i, f, g, o as in torch.nn.LSTM; x_proj already holds U x_t + b_ih + b_hh):
//   [i f g o] = x_proj_t + h_{t-1} W^T;  i, f, o = sigmoid(.), g = tanh(.)
//   c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
//
// Each step is one addmm into a preallocated gates buffer, then the gate arithmetic: with `raw_loop` (CPU) a
// loop of this file that the compiler vectorizes (vector_math.h), else a few ATen ops on views (any device).
// Backward walks time in reverse the same way, writing grad_x_proj in place, and computes grad_weight_hh
// with one matrix product over all steps at the end. No tensor storage is allocated per step.
// Registered with TORCH_LIBRARY (no pybind11, no torch/extension.h) to keep the JIT build short.

#include <ATen/core/Tensor.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/ops/add.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/tanh.h>
#include <torch/library.h>

#include "vector_math.h"

#include <optional>
#include <tuple>

namespace {

using at::Tensor;

// Rows of the batch handled per parallel task: keeps small steps on one thread.
constexpr int64_t kElementsPerTask = 16384;

int64_t grain_rows(int64_t hidden) {
  return std::max<int64_t>(1, kElementsPerTask / std::max<int64_t>(1, hidden));
}

// Raw gate arithmetic of one batch row (H units): activates the 4 gate blocks in place, writes c_t and h_t.
template <typename scalar_t>
SEQLAB_VECTOR_CLONES void forward_row(scalar_t* __restrict gate_i, scalar_t* __restrict gate_f,
                                      scalar_t* __restrict gate_g, scalar_t* __restrict gate_o,
                                      const scalar_t* __restrict c_prev, scalar_t* __restrict c,
                                      scalar_t* __restrict h, int64_t hidden) {
  for (int64_t j = 0; j < hidden; ++j) {
    const scalar_t i = seqlab_math::sigmoid(gate_i[j]), f = seqlab_math::sigmoid(gate_f[j]);
    const scalar_t g = seqlab_math::tanh(gate_g[j]), o = seqlab_math::sigmoid(gate_o[j]);
    gate_i[j] = i;
    gate_f[j] = f;
    gate_g[j] = g;
    gate_o[j] = o;
    const scalar_t cell = f * c_prev[j] + i * g;
    c[j] = cell;
    h[j] = o * seqlab_math::tanh(cell);
  }
}

// Raw backward of one batch row. In: dh = dL/dh_t, dc = dL/dc_t from later steps (updated in place to
// dL/dc_{t-1}), the step's activated gates, c_t, c_{t-1}. Out: d_gates, the gradient of the pre-activations.
template <typename scalar_t>
SEQLAB_VECTOR_CLONES void backward_row(const scalar_t* __restrict dh, scalar_t* __restrict dc,
                                       const scalar_t* __restrict gates, const scalar_t* __restrict c,
                                       const scalar_t* __restrict c_prev, scalar_t* __restrict d_gates,
                                       int64_t hidden) {
  const scalar_t *__restrict gate_i = gates, *__restrict gate_f = gates + hidden;
  const scalar_t *__restrict gate_g = gates + 2 * hidden, *__restrict gate_o = gates + 3 * hidden;
  scalar_t *__restrict d_i = d_gates, *__restrict d_f = d_gates + hidden;
  scalar_t *__restrict d_g = d_gates + 2 * hidden, *__restrict d_o = d_gates + 3 * hidden;
  for (int64_t j = 0; j < hidden; ++j) {
    const scalar_t i = gate_i[j], f = gate_f[j], g = gate_g[j], o = gate_o[j];
    const scalar_t tanh_c = seqlab_math::tanh(c[j]);
    const scalar_t grad_c = dc[j] + dh[j] * o * (1 - tanh_c * tanh_c);
    d_i[j] = grad_c * g * i * (1 - i);      // sigmoid' = i (1 - i)
    d_f[j] = grad_c * c_prev[j] * f * (1 - f);
    d_g[j] = grad_c * i * (1 - g * g);      // tanh' = 1 - g^2
    d_o[j] = dh[j] * tanh_c * o * (1 - o);
    dc[j] = grad_c * f;
  }
}

// Raw CPU gate arithmetic of one step: activates `gates (B,4H)` in place, writes `c (B,H)` and `h (B,H)`.
template <typename scalar_t>
void cell_forward_raw(scalar_t* gates, const scalar_t* c_prev, scalar_t* c, scalar_t* h, int64_t batch,
                      int64_t hidden) {
  at::parallel_for(0, batch, grain_rows(hidden), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      scalar_t* row = gates + b * 4 * hidden;  // (4H,)
      const int64_t offset = b * hidden;
      forward_row(row, row + hidden, row + 2 * hidden, row + 3 * hidden, c_prev + offset, c + offset,
                  h + offset, hidden);
    }
  });
}

// Raw CPU backward of one step: `dh`, `dc`, `c`, `c_prev` (B,H); `gates`, `d_gates` (B,4H), as backward_row.
template <typename scalar_t>
void cell_backward_raw(const scalar_t* dh, scalar_t* dc, const scalar_t* gates, const scalar_t* c,
                       const scalar_t* c_prev, scalar_t* d_gates, int64_t batch, int64_t hidden) {
  at::parallel_for(0, batch, grain_rows(hidden), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t offset = b * hidden;
      backward_row(dh + offset, dc + offset, gates + 4 * offset, c + offset, c_prev + offset,
                   d_gates + 4 * offset, hidden);
    }
  });
}

// ATen gate arithmetic of one step (any device): same contract as cell_forward_raw.
void cell_forward_aten(const Tensor& gates, const Tensor& c_prev, Tensor c, Tensor h) {
  const int64_t hidden = c.size(1);
  gates.narrow(1, 0, 2 * hidden).sigmoid_();      // i, f
  gates.narrow(1, 2 * hidden, hidden).tanh_();    // g
  gates.narrow(1, 3 * hidden, hidden).sigmoid_(); // o
  at::mul_out(c, gates.narrow(1, hidden, hidden), c_prev);              // f * c_{t-1}
  c.addcmul_(gates.narrow(1, 0, hidden), gates.narrow(1, 2 * hidden, hidden));  // + i * g
  at::tanh_out(h, c);
  h.mul_(gates.narrow(1, 3 * hidden, hidden));  // o * tanh(c_t)
}

void check_inputs(const Tensor& x_proj, const Tensor& h0, const Tensor& c0, const Tensor& weight_hh) {
  TORCH_CHECK(x_proj.dim() == 3, "lstm_recurrence: x_proj must be (T, B, 4H), got ", x_proj.sizes());
  const int64_t batch = x_proj.size(1), hidden = weight_hh.size(1);
  TORCH_CHECK(weight_hh.dim() == 2 && weight_hh.size(0) == 4 * hidden,
              "lstm_recurrence: weight_hh must be (4H, H), got ", weight_hh.sizes());
  TORCH_CHECK(x_proj.size(2) == 4 * hidden, "lstm_recurrence: x_proj must be (T, B, 4H) with H = ", hidden,
              ", got ", x_proj.sizes());
  TORCH_CHECK(h0.sizes() == c0.sizes() && h0.dim() == 2 && h0.size(0) == batch && h0.size(1) == hidden,
              "lstm_recurrence: h0 and c0 must be (B, H) = (", batch, ", ", hidden, "), got ", h0.sizes(),
              " and ", c0.sizes());
  TORCH_CHECK(x_proj.size(0) > 0, "lstm_recurrence: needs at least one time step");
  for (const Tensor* t : {&h0, &c0, &weight_hh}) {
    TORCH_CHECK(t->scalar_type() == x_proj.scalar_type() && t->device() == x_proj.device(),
                "lstm_recurrence: all inputs must share x_proj's dtype and device");
  }
}

std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> lstm_recurrence_forward(
    const Tensor& x_proj_in, const Tensor& h0_in, const Tensor& c0_in, const Tensor& weight_hh_in,
    bool raw_loop) {
  at::AutoDispatchBelowADInplaceOrView no_autograd;
  check_inputs(x_proj_in, h0_in, c0_in, weight_hh_in);
  const Tensor x_proj = x_proj_in.contiguous(), h0 = h0_in.contiguous(), c0 = c0_in.contiguous();
  const Tensor weight_t = weight_hh_in.t();  // (H, 4H)
  const int64_t steps = x_proj.size(0), batch = x_proj.size(1), hidden = h0.size(1);
  raw_loop = raw_loop && x_proj.device().is_cpu();

  Tensor gates = at::empty_like(x_proj);        // (T, B, 4H)
  Tensor output = at::empty({steps, batch, hidden}, x_proj.options());  // (T, B, H)
  Tensor cells = at::empty_like(output);        // (T, B, H)
  for (int64_t t = 0; t < steps; ++t) {
    const Tensor h_prev = t == 0 ? h0 : output[t - 1];  // (B, H)
    const Tensor c_prev = t == 0 ? c0 : cells[t - 1];   // (B, H)
    Tensor gates_t = gates[t];                          // (B, 4H)
    at::addmm_out(gates_t, x_proj[t], h_prev, weight_t);
    if (raw_loop) {
      AT_DISPATCH_FLOATING_TYPES(x_proj.scalar_type(), "lstm_recurrence_forward", [&] {
        cell_forward_raw<scalar_t>(gates_t.data_ptr<scalar_t>(), c_prev.data_ptr<scalar_t>(),
                                   cells[t].data_ptr<scalar_t>(), output[t].data_ptr<scalar_t>(), batch,
                                   hidden);
      });
    } else {
      cell_forward_aten(gates_t, c_prev, cells[t], output[t]);
    }
  }
  return {output, output[steps - 1].clone(), cells[steps - 1].clone(), gates, cells};
}

// ATen backward (any device). The derivative factors that need no recurrent gradient are computed for all
// steps at once and stored where the gradient goes: grad_x_proj holds, per step, [g i(1-i), c_{t-1} f(1-f),
// i (1-g^2), tanh(c) o(1-o)]; each step multiplies its i, f, g blocks by dL/dc_t and its o block by dL/dh_t.
void backward_aten(const Tensor& grad_output, const Tensor& gates, const Tensor& cells, const Tensor& c0,
                   const Tensor& weight_hh, Tensor& dh, Tensor& dc, Tensor& grad_x_proj) {
  const int64_t steps = gates.size(0), hidden = cells.size(2);
  auto block = [&](const Tensor& t, int64_t k) { return t.narrow(2, k * hidden, hidden); };  // (T, B, H)
  const Tensor i = block(gates, 0), f = block(gates, 1), g = block(gates, 2), o = block(gates, 3);
  const Tensor tanh_c = cells.tanh();                                     // (T, B, H)
  const Tensor c_prev = at::cat({c0.unsqueeze(0), cells.narrow(0, 0, steps - 1)});  // (T, B, H)
  auto set_block = [&](int64_t k, const Tensor& a, const Tensor& b) {
    Tensor out = block(grad_x_proj, k);  // (T, B, H)
    at::mul_out(out, a, b);
  };
  auto one_minus_square = [](const Tensor& t) { return t.square().neg_().add_(1); };
  set_block(0, g, i.sub(i.square()));         // sigmoid' = i (1 - i)
  set_block(1, c_prev, f.sub(f.square()));
  set_block(2, i, one_minus_square(g));       // tanh' = 1 - g^2
  set_block(3, tanh_c, o.sub(o.square()));
  const Tensor dc_from_dh = one_minus_square(tanh_c).mul_(o);             // (T, B, H): dc_t/dh_t
  for (int64_t t = steps - 1; t >= 0; --t) {
    Tensor d_gates = grad_x_proj[t];                                      // (B, 4H)
    dc.addcmul_(dh, dc_from_dh[t]);                                       // dL/dc_t
    d_gates.narrow(1, 3 * hidden, hidden).mul_(dh);
    d_gates.narrow(1, 0, 3 * hidden).view({-1, 3, hidden}).mul_(dc.unsqueeze(1));
    dc.mul_(f[t]);                                                        // dL/dc_{t-1} through c
    if (t > 0) {
      at::addmm_out(dh, grad_output[t - 1], d_gates, weight_hh);          // dL/dh_{t-1}
    } else {
      at::mm_out(dh, d_gates, weight_hh);
    }
  }
}

void backward_raw(const Tensor& grad_output, const Tensor& gates, const Tensor& cells, const Tensor& c0,
                  const Tensor& weight_hh, Tensor& dh, Tensor& dc, Tensor& grad_x_proj) {
  const int64_t steps = gates.size(0), batch = gates.size(1), hidden = cells.size(2);
  for (int64_t t = steps - 1; t >= 0; --t) {
    Tensor d_gates = grad_x_proj[t];  // (B, 4H)
    const Tensor c_prev = t == 0 ? c0 : cells[t - 1];
    AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_recurrence_backward", [&] {
      cell_backward_raw<scalar_t>(dh.data_ptr<scalar_t>(), dc.data_ptr<scalar_t>(),
                                  gates[t].data_ptr<scalar_t>(), cells[t].data_ptr<scalar_t>(),
                                  c_prev.data_ptr<scalar_t>(), d_gates.data_ptr<scalar_t>(), batch, hidden);
    });
    if (t > 0) {
      at::addmm_out(dh, grad_output[t - 1], d_gates, weight_hh);  // dL/dh_{t-1}
    } else {
      at::mm_out(dh, d_gates, weight_hh);
    }
  }
}

std::tuple<Tensor, Tensor, Tensor, std::optional<Tensor>> lstm_recurrence_backward(
    const Tensor& grad_output_in, const Tensor& grad_h_n, const Tensor& grad_c_n, const Tensor& output,
    const Tensor& gates, const Tensor& cells, const Tensor& h0_in, const Tensor& c0_in,
    const Tensor& weight_hh_in, bool need_weight_grad, bool raw_loop) {
  at::AutoDispatchBelowADInplaceOrView no_autograd;
  const Tensor grad_output = grad_output_in.contiguous(), h0 = h0_in.contiguous(), c0 = c0_in.contiguous();
  const Tensor weight_hh = weight_hh_in.contiguous();  // (4H, H)
  const int64_t steps = gates.size(0), hidden = cells.size(2);
  raw_loop = raw_loop && gates.device().is_cpu();

  Tensor dh = at::add(grad_output[steps - 1], grad_h_n);  // (B, H): dL/dh_{T-1}
  Tensor dc = grad_c_n.clone(at::MemoryFormat::Contiguous);  // (B, H): dL/dc_{T-1} from later use
  Tensor grad_x_proj = at::empty_like(gates);             // (T, B, 4H)
  if (raw_loop) {
    backward_raw(grad_output, gates, cells, c0, weight_hh, dh, dc, grad_x_proj);
  } else {
    backward_aten(grad_output, gates, cells, c0, weight_hh, dh, dc, grad_x_proj);
  }
  std::optional<Tensor> grad_weight_hh;
  if (need_weight_grad) {  // sum_t dgates_t^T h_{t-1}: one product over steps 1..T-1, plus step 0's h0
    const int64_t rows = (steps - 1) * gates.size(1);
    grad_weight_hh = at::mm(grad_x_proj.narrow(0, 1, steps - 1).reshape({rows, 4 * hidden}).t(),
                            output.narrow(0, 0, steps - 1).reshape({rows, hidden}));  // (4H, H)
    grad_weight_hh->addmm_(grad_x_proj[0].t(), h0);
  }
  return {grad_x_proj, dh, dc, grad_weight_hh};
}

}  // namespace

TORCH_LIBRARY(seqlab_kernels, m) {
  m.def("lstm_recurrence_forward(Tensor x_proj, Tensor h0, Tensor c0, Tensor weight_hh, bool raw_loop)"
        " -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("lstm_recurrence_backward(Tensor grad_output, Tensor grad_h_n, Tensor grad_c_n, Tensor output,"
        " Tensor gates, Tensor cells, Tensor h0, Tensor c0, Tensor weight_hh, bool need_weight_grad,"
        " bool raw_loop) -> (Tensor, Tensor, Tensor, Tensor?)");
}

TORCH_LIBRARY_IMPL(seqlab_kernels, CompositeExplicitAutograd, m) {
  m.impl("lstm_recurrence_forward", &lstm_recurrence_forward);
  m.impl("lstm_recurrence_backward", &lstm_recurrence_backward);
}
