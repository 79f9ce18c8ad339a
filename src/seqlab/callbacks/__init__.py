"""Diagnostics callbacks: gradient flow through time, gate statistics, recurrent spectra, gradient norms."""

from seqlab.callbacks.gate_statistics import GateStatistics
from seqlab.callbacks.gradient_flow import GradientFlowThroughTime
from seqlab.callbacks.gradient_norms import GradientNorms
from seqlab.callbacks.spectrum import RecurrentSpectrum

__all__ = ["GradientFlowThroughTime", "GateStatistics", "RecurrentSpectrum", "GradientNorms"]
