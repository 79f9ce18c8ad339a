"""Shim: `python train.py ...` runs `seqlab-train` (see seqlab.cli.train)."""

from seqlab.cli.train import main

if __name__ == "__main__":
    main()
