"""`ShapeError`: the exception seqlab raises for a tensor of the wrong shape.

torch.nn's RNNs and cells raise `RuntimeError` for a wrong input size, a wrong `hx` shape or an empty
sequence, where Python code usually expects `ValueError`. `ShapeError` is both, so code written for either
(`except RuntimeError` in torch's own tests, `except ValueError` in seqlab's) catches it, and the message
stays seqlab's one line.
"""


class ShapeError(ValueError, RuntimeError):
    """A tensor has the wrong shape (a `ValueError` and a `RuntimeError`, as torch raises)."""
