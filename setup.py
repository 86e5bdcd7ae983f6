"""Package list for setuptools (everything else is in pyproject.toml): the mptui packages as
found, plus `mptui.themes`, which is the top-level `themes/` folder (see package-dir)."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["mptui", "mptui.*"]), "mptui.themes"])
