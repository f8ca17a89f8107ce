"""The names each choice list of the command line offers: the keys of the library's registries,
written here so that ``revshare COMMAND --help`` loads none of the library's heavy modules
(pandas, PuLP, HiGHS: about 2 s of a 3 s help before). ``tests/test_cli_surface.py`` checks that
every list equals its registry, so a name the library learns fails the tests until it is here."""

SOLVERS = ("highs", "cbc")
"""revshare.solve.solver.SOLVERS"""
PRICE_MODELS = ("gbm", "mean-reverting")
"""revshare.data.scenarios.PRICE_MODELS"""
METHODS = ("hamilton", "jefferson", "webster", "huntington-hill", "adams", "dean")
"""revshare.analyses.convention.METHODS"""
METHOD_ALIASES = (
    "dhondt",
    "d'hondt",
    "sainte-lague",
    "largest-remainder",
    "hare-niemeyer",
    "hill",
)
"""revshare.analyses.convention.ALIASES"""
BY = ("region", "bloc", "faction")
"""revshare.analyses.convention.BY"""
TIE_RULES = ("error", "larger-population", "alphabetical")
"""revshare.analyses.convention.TIE_RULES"""
RULES = ("majority", "double-majority", "iraq-2005", "bloc-veto")
"""revshare.analyses.referendum.RULES"""
VOTE_MODELS = ("deterministic", "logistic")
"""revshare.analyses.referendum.VOTE_MODELS"""
POWER_VOTERS = ("region", "bloc")
"""revshare.analyses.blocking.VOTERS"""
SECESSION_VOTERS = ("bloc", "region")
"""revshare.analyses.secession.VOTERS"""
