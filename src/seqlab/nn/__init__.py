"""seqlab.nn: layers that run cells over time.

`LSTM`, `GRU`, `RNN` are drop-in replacements for torch's (same arguments, parameter names and results, plus
keyword-only extras); `Recurrent` runs any `seqlab.cells` cell stacked, bidirectional and dilated;
`make_recurrent` builds the right one from a cell name. `LSTM`, `GRU`, `RNN` are subclasses of torch's
(`RNNBase` here is torch's, for code that writes `class MyRNNBase(nn.RNNBase)` with `nn` this module);
`as_torch_modules(model)` swaps seqlab's layers of a torch configuration for torch's own (for
`torch.ao.quantization.quantize_dynamic`, which matches exact types: see `seqlab.nn.torch_equivalent`).
"""

from torch.nn import RNNBase

from seqlab.nn.factory import make_recurrent
from seqlab.nn.recurrent import Recurrent
from seqlab.nn.torch_equivalent import as_torch_modules
from seqlab.nn.torch_modules import GRU, LSTM, RNN

__all__ = ["Recurrent", "LSTM", "GRU", "RNN", "RNNBase", "make_recurrent", "as_torch_modules"]
