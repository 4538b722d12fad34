"""Analysis tools over finished runs, one module each, run as ``tmc analyze <name> ...`` (``harness.analyze.cli``).

Each module has ``main(argv)``; its functions are imported directly by the tests.
"""
