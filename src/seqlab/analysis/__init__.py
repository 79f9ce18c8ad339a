"""Analysis tools for recurrent networks: real-time recurrent learning (RTRL) and its one-step Jacobians."""

from seqlab.analysis.rtrl import rtrl_gradients, sensitivity_numel

__all__ = ["rtrl_gradients", "sensitivity_numel"]
