"""Shim: `python generate.py ...` runs `seqlab-generate` (see seqlab.cli.generate)."""

from seqlab.cli.generate import main

if __name__ == "__main__":
    main()
