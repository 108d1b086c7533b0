"""The explorer: an interactive Mesa SolaraViz page for students and policy teams (see docs/INFO.md).

:mod:`experiments.explorer.model` builds a model from the page's controls through the CLI's own configuration
path; :mod:`experiments.explorer.views` draws it; :mod:`experiments.explorer.app` is the page. Start it with
``.venv/bin/python -m experiments.explore``.
"""
