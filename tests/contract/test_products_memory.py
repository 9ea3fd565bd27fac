"""The product-registry contract suite against the memory adapter."""

from __future__ import annotations

from axadapters.memory.products import MemoryProducts
from tests.contract.suite_products import ProductsContract


class TestMemoryProducts(ProductsContract):
    def make_products(self) -> MemoryProducts:
        return MemoryProducts()
