"""Build script: the package is pure Python apart from the Cython kernel (added in setup())."""

from setuptools import setup

setup()
