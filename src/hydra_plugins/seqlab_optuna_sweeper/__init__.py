"""seqlab's Hydra sweeper on Optuna's current API (`hydra/sweeper=seqlab_optuna`); see docs/hparams_search.md.

Hydra finds it because `hydra_plugins` is a namespace package that Hydra scans for plugins at start-up.
"""
