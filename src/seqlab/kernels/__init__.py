"""seqlab's optional C++ kernels, built just in time on first use (`build.py`).

`lstm_recurrence.cpp` runs the plain LSTM recurrence over a whole sequence with a hand-written backward
through time (`vector_math.h`: the vectorizable exp, sigmoid, tanh it uses); `lstm_function.py` wraps it as
the autograd Function `LSTMRecurrence`, which `LSTMCell.fused_steps` runs in the custom time loop.
Without a compiler, or with `SEQLAB_NO_EXTENSIONS=1`, `available()` is False and the Python time loop runs
instead.
"""

from seqlab.kernels.build import available

__all__ = ["available"]
