"""Shim: `python eval.py ...` runs `seqlab-eval` (see seqlab.cli.eval)."""

from seqlab.cli.eval import main

if __name__ == "__main__":
    main()
