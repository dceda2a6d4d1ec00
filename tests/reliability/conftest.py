"""Fixtures of the reliability tests: the product-reader fixtures (real data in ../shared/data)."""

from tests.products.conftest import s1b_zip, terceira  # noqa: F401  (fixtures, re-exported)
