"""The ``revshare`` command line, run from a checkout: ``python cli.py optimize data/iraq``.

The command group lives in the :mod:`revshare_cli` package, which is what an install provides (the
``revshare`` console script and ``python -m revshare``); this file is not installed, so that an
install adds no top-level module named ``cli``.
"""

from revshare_cli import main

if __name__ == "__main__":
    main()
