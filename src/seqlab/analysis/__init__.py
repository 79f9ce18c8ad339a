"""Analysis tools: real-time recurrent learning (RTRL) and its one-step Jacobians; sweep summaries
(`sweep_summary`, `sweep_figure`, `sweep_callback`: a Hydra sweep's metrics from TensorBoard, in a table)."""

from seqlab.analysis.rtrl import rtrl_gradients, sensitivity_numel

__all__ = ["rtrl_gradients", "sensitivity_numel"]
