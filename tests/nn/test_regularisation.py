"""Variational dropout and zoneout (seqlab.nn.regularisation) against a hand-written float64 loop of the
papers' equations with the same masks; rate 0 and eval() bit-equal to the plain module; masks per
sequence, seeded."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from seqlab.cells import make_cell
from seqlab.nn import GRU, LSTM, Recurrent

I, H, B, T = 3, 4, 5, 6


def reference_lstm(params: dict, x: Tensor, lengths: Tensor, masks: list, rates: dict, num_layers: int):
    """Gal & Ghahramani's variational LSTM with Krueger et al.'s zoneout, step by step, from the recorded
    masks (consumed in the order the layer draws them). x: (T, B, I). Returns (output, h_n, c_n)."""
    masks = list(masks)
    layer_input = x * masks.pop(0)[1] if rates.get("input_dropout") else x  # locked: (1, B, I)
    h_n, c_n = [], []
    for layer in range(num_layers):
        w_ih, w_hh = params[f"weight_ih_l{layer}"], params[f"weight_hh_l{layer}"]
        b = params[f"bias_ih_l{layer}"] + params[f"bias_hh_l{layer}"]
        h = c = x.new_zeros(x.shape[1], H)
        recurrent = masks.pop(0)[1] if rates.get("recurrent_dropout") else 1.0  # m, (B, H)
        outputs = []
        for t in range(x.shape[0]):
            gates = layer_input[t] @ w_ih.T + (recurrent * h) @ w_hh.T + b  # (B, 4H)
            i, f, g, o = gates.chunk(4, dim=1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            if rates.get("zoneout_hidden"):
                d = masks.pop(0)[2].to(x.dtype)  # d_t: 1 keeps the previous value
                h_new = d * h + (1 - d) * h_new
            if rates.get("zoneout_cell"):
                d = masks.pop(0)[2].to(x.dtype)
                c_new = d * c + (1 - d) * c_new
            real = (t < lengths).unsqueeze(1)  # (B, 1): past its length a sequence keeps its state
            h, c = torch.where(real, h_new, h), torch.where(real, c_new, c)
            outputs.append(torch.where(real, h, torch.zeros_like(h)))
        h_n.append(h)
        c_n.append(c)
        layer_input = torch.stack(outputs)  # (T, B, H)
        if layer < num_layers - 1 and rates.get("dropout"):
            layer_input = layer_input * masks.pop(0)[1]  # locked between layers (variational mode)
    assert not masks, "every recorded mask is used"
    return layer_input, torch.stack(h_n), torch.stack(c_n)


RATES = {"input_dropout": 0.2, "recurrent_dropout": 0.3, "zoneout_hidden": 0.25, "zoneout_cell": 0.4,
         "dropout": 0.3}


def make_regularised_lstm():
    torch.manual_seed(0)
    module = LSTM(I, H, 2, dropout=RATES["dropout"], dropout_mode="variational",
                  **{k: v for k, v in RATES.items() if k != "dropout"}).double()
    module.mask_recorder = []
    return module


def test_training_matches_the_papers_equations_with_the_same_masks():
    module = make_regularised_lstm()
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 3, 5, 1, 6])
    output, (h_n, c_n) = module(x, lengths=lengths)
    params = {k: v.detach().clone().requires_grad_() for k, v in module.named_parameters()}
    ref_x = x.detach().clone().requires_grad_()
    ref_output, ref_h, ref_c = reference_lstm(params, ref_x, lengths, module.mask_recorder, RATES, 2)
    torch.testing.assert_close(output, ref_output)
    torch.testing.assert_close(h_n, ref_h)
    torch.testing.assert_close(c_n, ref_c)
    (output.square().sum() + c_n.sum()).backward()
    (ref_output.square().sum() + ref_c.sum()).backward()
    torch.testing.assert_close(x.grad, ref_x.grad)
    for name, param in module.named_parameters():
        torch.testing.assert_close(param.grad, params[name].grad, msg=name)


def test_gradcheck_with_fixed_masks():
    module = make_regularised_lstm()
    module.mask_recorder = None
    x = torch.randn(4, 2, I, dtype=torch.float64, requires_grad=True)

    def run(inputs):
        torch.manual_seed(1)  # the same masks at every evaluation
        output, (h_n, c_n) = module(inputs, lengths=torch.tensor([4, 2]))
        return output, c_n

    assert torch.autograd.gradcheck(run, (x,))


def test_masks_are_one_per_sequence_and_seeded():
    module = make_regularised_lstm()
    x = torch.randn(T, B, I, dtype=torch.float64)
    module(x)
    kinds = [entry[0] for entry in module.mask_recorder]
    assert kinds.count("recurrent") == 2 and kinds.count("locked") == 2  # per layer; input + between layers
    assert kinds.count("zoneout") == 2 * 2 * T  # fresh each step, for h and c, in both layers
    locked = module.mask_recorder[0][1]
    assert locked.shape == (1, B, I)  # the same mask at every step
    recurrent = next(m for kind, m, *_ in module.mask_recorder if kind == "recurrent")
    assert recurrent.shape == (B, H) and set(recurrent.unique().tolist()) <= {0.0, 1 / (1 - 0.3)}
    torch.manual_seed(7)
    first = module(x)[0]
    torch.manual_seed(7)
    assert torch.equal(first, module(x)[0])
    assert not torch.equal(first, module(x)[0])


def test_rates_are_drawn_at_their_probability():
    module = LSTM(I, 200, recurrent_dropout=0.3, zoneout_hidden=0.2)
    module.mask_recorder = []
    torch.manual_seed(0)
    module(torch.randn(20, 50, I))
    recurrent = next(m for kind, m, *_ in module.mask_recorder if kind == "recurrent")
    zoned = torch.stack([m for kind, *rest, m in module.mask_recorder if kind == "zoneout"]).float()
    assert abs((recurrent == 0).float().mean().item() - 0.3) < 0.02
    assert abs(zoned.mean().item() - 0.2) < 0.01


@pytest.mark.parametrize("family", ["lstm", "gru"])
def test_eval_and_rate_zero_are_bit_equal_to_the_plain_module(family):
    module_class = LSTM if family == "lstm" else GRU
    torch.manual_seed(0)
    plain = module_class(I, H, 2, dropout=0.2, bidirectional=True)
    regularised = module_class(I, H, 2, dropout=0.2, bidirectional=True, recurrent_dropout=0.3,
                               input_dropout=0.2, dropout_mode="variational")
    zero = module_class(I, H, 2, dropout=0.2, bidirectional=True, recurrent_dropout=0.0, zoneout=0.0)
    regularised.load_state_dict(plain.state_dict())
    zero.load_state_dict(plain.state_dict())
    x = torch.randn(T, B, I)
    assert zero.uses_torch_kernel() and not regularised.uses_torch_kernel()
    torch.manual_seed(3)
    expected = plain(x)[0]  # training: torch's dropout between layers
    torch.manual_seed(3)
    assert torch.equal(zero(x)[0], expected)
    plain.eval()
    regularised.eval()
    assert regularised.uses_torch_kernel()
    assert torch.equal(regularised(x)[0], plain(x)[0])


def test_generic_cell_rate_zero_and_eval_are_bit_equal():
    torch.manual_seed(0)
    plain = Recurrent(make_cell("mgu", I, H), num_layers=2, dropout=0.1)
    regularised = Recurrent(make_cell("mgu", I, H), num_layers=2, dropout=0.1, recurrent_dropout=0.4,
                            input_dropout=0.1, dropout_mode="variational")
    regularised.load_state_dict(plain.state_dict())
    x = torch.randn(T, B, I)
    plain.eval()
    regularised.eval()
    assert torch.equal(regularised(x)[0], plain(x)[0])
    regularised.train()
    assert not torch.equal(regularised(x)[0], plain(x)[0])


def test_zoneout_evaluation_is_the_expectation_for_a_gru():
    torch.manual_seed(0)
    module = GRU(I, H, zoneout=0.3).double().eval()
    cell = torch.nn.GRUCell(I, H).double()
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in module.state_dict().items()})
    x = torch.randn(T, B, I, dtype=torch.float64)
    h = torch.zeros(B, H, dtype=torch.float64)
    outputs = []
    for t in range(T):
        h = 0.3 * h + 0.7 * cell(x[t], h)  # h_t = p h_{t-1} + (1 - p) h̃_t
        outputs.append(h)
    output, h_n = module(x)
    torch.testing.assert_close(output, torch.stack(outputs))
    torch.testing.assert_close(h_n[0], h)
    module.train()  # training: each unit is either its previous value or the new one
    module.mask_recorder = []
    output, _ = module(x)
    first_keep = module.mask_recorder[0][2]  # d_1, zoneout of h at step 1 (h_0 = 0)
    assert torch.equal(output[0][first_keep], torch.zeros_like(output[0][first_keep]))


def test_variable_lengths_freeze_the_state_and_zero_the_padding():
    torch.manual_seed(0)
    module = Recurrent(make_cell("gru", I, H), recurrent_dropout=0.3, zoneout=0.2, return_all_states=True)
    x = torch.randn(T, B, I)
    lengths = torch.tensor([6, 2, 4, 1, 3])
    output, h_n, (states,) = module(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        assert torch.equal(h_n[0, b], states[0, n - 1, b])
        assert not output[n:, b].any()


def test_runs_under_torch_compile():
    torch.manual_seed(0)
    module = LSTM(I, H, recurrent_dropout=0.3, zoneout=0.2, input_dropout=0.1)
    compiled = torch.compile(module, backend="aot_eager")
    x = torch.randn(3, 2, I)
    output, _ = compiled(x)
    output.sum().backward()
    assert module.weight_hh_l0.grad is not None and output.shape == (3, 2, H)
    module.eval()
    torch.testing.assert_close(compiled(x)[0], module(x)[0])


def test_backend_torch_refuses_a_training_regulariser():
    module = LSTM(I, H, recurrent_dropout=0.3, backend="torch")
    with pytest.raises(ValueError, match="backend='torch' cannot run recurrent_dropout=0.3"):
        module(torch.randn(T, B, I))
    module.eval()
    assert module(torch.randn(T, B, I))[0].shape == (T, B, H)


@pytest.mark.parametrize(("options", "message"), [
    ({"recurrent_dropout": 1.0}, r"recurrent_dropout must be a number in \[0, 1\)"),
    ({"zoneout": -0.1}, r"zoneout must be a number in \[0, 1\]"),
    ({"zoneout_cell": "high"}, "zoneout_cell must be a number"),
    ({"dropout_mode": "locked"}, "dropout_mode must be one of standard, variational"),
])
def test_bad_rates_are_refused_in_one_line(options, message):
    with pytest.raises(ValueError, match=message):
        LSTM(I, H, **options)


def test_an_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'recurent_dropout'"):
        Recurrent(make_cell("rnn", I, H), recurent_dropout=0.1)
