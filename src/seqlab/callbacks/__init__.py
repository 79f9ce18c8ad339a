"""seqlab.callbacks."""
