"""``python -m revshare``: the command line, as the ``revshare`` console script runs it.

The only module of the package that reaches the command line (:mod:`revshare_cli`); nothing
imports it, so the library itself never loads click.
"""

from revshare_cli import main

if __name__ == "__main__":
    main(prog_name="revshare")
