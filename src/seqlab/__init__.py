"""seqlab: recurrent sequence models in PyTorch.

`seqlab.cells` holds one-step recurrent cells, `seqlab.nn` the layers that run them over time
(drop-in replacements for `torch.nn.RNN/LSTM/GRU`), `seqlab.tasks` the Lightning modules that train them.
"""

__version__ = "0.1.0"
