"""Mutants: small deliberate bugs the suite must catch (``nox -s mutants``).

Each mutant is a textual search/replace in one file of a scratch copy of the tree; its anchor
must occur exactly once, so a refactor that moves the code makes the run fail loudly (re-anchor
it in :mod:`tests.mutants.catalogue`) instead of silently testing nothing.
"""
