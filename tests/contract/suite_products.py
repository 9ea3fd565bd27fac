"""Contract suite of the ProductRepository port: append-only products and instruments.

A subclass provides ``make_products()`` returning a fresh, empty repository (and may add a
``teardown_method``). Times are whole microseconds so that a store keeping timestamps at
microsecond precision round-trips them exactly.

What may differ between adapters, and so is not asserted: whether a failed
``create_product`` burns a sequence value (PostgreSQL's ``nextval`` does), so ids are checked
to be odd and strictly increasing rather than consecutive across a failure.
"""

from __future__ import annotations

import pytest

from axdomain.contracts import ContractDate, ContractId, ProductId
from axdomain.errors import Conflict, NotFound
from axdomain.ports import ProductRepository
from axdomain.products import Instrument, Product

T0 = 1_750_000_000_000_000_000  # ns, a whole number of microseconds
DAY_NS = 86_400_000_000_000
JAN_2026 = ContractDate(20260130)
FEB_2026 = ContractDate(20260227)


class ProductsContract:
    def make_products(self) -> ProductRepository:
        raise NotImplementedError

    # --- products ---------------------------------------------------------------------

    def test_first_ids_are_1001_then_1003(self) -> None:
        repo = self.make_products()
        first = repo.create_product("COMPUTEDESK-H100", T0)
        second = repo.create_product("COMPUTEDESK-A100", T0 + 1_000)
        assert first == Product(ProductId(1001), "COMPUTEDESK-H100", T0)
        assert second == Product(ProductId(1003), "COMPUTEDESK-A100", T0 + 1_000)

    def test_created_products_read_back_by_id_and_name(self) -> None:
        repo = self.make_products()
        product = repo.create_product("COMPUTEDESK-H100", T0)
        assert repo.get_product(product.product_id) == product
        assert repo.find_product("COMPUTEDESK-H100") == product
        assert repo.get_product(ProductId(1003)) is None
        assert repo.find_product("COMPUTEDESK-A100") is None
        assert repo.find_product("computedesk-h100") is None  # names are exact

    def test_ids_are_odd_and_strictly_increasing(self) -> None:
        repo = self.make_products()
        ids = [repo.create_product(f"P{n}", T0).product_id.value for n in range(6)]
        assert ids[0] == 1001
        assert all(value % 2 == 1 for value in ids)
        assert ids == sorted(set(ids))
        listed = repo.list_products()
        assert sorted(p.product_id.value for p in listed) == ids

    def test_duplicate_name_is_a_conflict_and_changes_nothing(self) -> None:
        repo = self.make_products()
        original = repo.create_product("COMPUTEDESK-H100", T0)
        with pytest.raises(Conflict) as caught:
            repo.create_product("COMPUTEDESK-H100", T0 + 1_000)
        assert (caught.value.field, caught.value.value) == ("product_name", "COMPUTEDESK-H100")
        assert list(repo.list_products()) == [original]
        following = repo.create_product("COMPUTEDESK-A100", T0)
        assert following.product_id.value > original.product_id.value
        assert following.product_id.value % 2 == 1

    def test_ids_are_never_reissued(self) -> None:
        repo = self.make_products()
        issued = {repo.create_product(f"P{n}", T0).product_id for n in range(3)}
        with pytest.raises(Conflict):
            repo.create_product("P1", T0)
        later = repo.create_product("P9", T0).product_id
        assert later not in issued
        assert later.value > max(p.value for p in issued)

    def test_seeded_products_keep_their_historic_ids(self) -> None:
        repo = self.make_products()
        seeded = Product(ProductId(1005), "COMPUTEDESK-H200", T0)
        repo.seed_product(seeded)
        assert repo.get_product(ProductId(1005)) == seeded
        assert repo.find_product("COMPUTEDESK-H200") == seeded

    def test_create_after_seed_continues_above_the_seeded_ids(self) -> None:
        repo = self.make_products()
        repo.seed_product(Product(ProductId(1001), "COMPUTEDESK-H100", T0))
        repo.seed_product(Product(ProductId(1011), "COMPUTEDESK-MI300X", T0))
        repo.seed_product(Product(ProductId(1003), "COMPUTEDESK-A100", T0))  # lower, later
        created = repo.create_product("COMPUTEDESK-GH200", T0)
        assert created.product_id == ProductId(1013)

    def test_seed_below_the_sequence_does_not_move_it_back(self) -> None:
        repo = self.make_products()
        for n in range(3):
            repo.create_product(f"P{n}", T0)  # 1001, 1003, 1005
        repo.seed_product(Product(ProductId(2001), "HISTORIC-A", T0))
        repo.seed_product(Product(ProductId(1501), "HISTORIC-B", T0))
        assert repo.create_product("NEXT", T0).product_id == ProductId(2003)

    def test_seed_conflicts_on_an_existing_id_or_name(self) -> None:
        repo = self.make_products()
        original = Product(ProductId(1001), "COMPUTEDESK-H100", T0)
        repo.seed_product(original)
        with pytest.raises(Conflict) as caught:
            repo.seed_product(Product(ProductId(1001), "COMPUTEDESK-H100-SXM", T0))
        assert (caught.value.field, caught.value.value) == ("product_id", 1001)
        with pytest.raises(Conflict) as caught:
            repo.seed_product(Product(ProductId(1003), "COMPUTEDESK-H100", T0))
        assert (caught.value.field, caught.value.value) == ("product_name", "COMPUTEDESK-H100")
        with pytest.raises(Conflict):
            repo.seed_product(original)  # even an identical row: append-only, no upsert
        assert list(repo.list_products()) == [original]

    def test_no_write_renames_a_product(self) -> None:
        repo = self.make_products()
        product = repo.create_product("COMPUTEDESK-H100", T0)
        for attempt in (
            lambda: repo.seed_product(Product(product.product_id, "RENAMED", T0)),
            lambda: repo.create_product("COMPUTEDESK-H100", T0),
        ):
            with pytest.raises(Conflict):
                attempt()
        assert repo.get_product(product.product_id) == product
        assert repo.find_product("RENAMED") is None

    def test_list_products_returns_every_row(self) -> None:
        repo = self.make_products()
        repo.seed_product(Product(ProductId(1007), "SEEDED", T0))
        created = repo.create_product("CREATED", T0 + 2_000)
        listed = sorted(repo.list_products(), key=lambda p: p.product_id.value)
        assert listed == [Product(ProductId(1007), "SEEDED", T0), created]

    # --- instruments ------------------------------------------------------------------

    def _with_h100(self) -> tuple[ProductRepository, ProductId]:
        repo = self.make_products()
        return repo, repo.create_product("COMPUTEDESK-H100", T0).product_id

    def test_instruments_read_back(self) -> None:
        repo, h100 = self._with_h100()
        perp = Instrument("COMPUTEDESK-H100-PERP", ContractId.perp(h100))
        monthly = Instrument("COMPUTEDESK-H100-JAN-2026", ContractId.new(h100, JAN_2026), T0)
        repo.add_instrument(perp)
        repo.add_instrument(monthly)
        assert repo.get_instrument("COMPUTEDESK-H100-PERP") == perp
        assert repo.get_instrument("COMPUTEDESK-H100-JAN-2026") == monthly
        assert repo.get_instrument("COMPUTEDESK-H100-FEB-2026") is None
        listed = sorted(repo.list_instruments(), key=lambda i: i.symbol)
        assert listed == [monthly, perp]

    def test_expiry_is_adjustable_without_changing_identity(self) -> None:
        repo, h100 = self._with_h100()
        contract = ContractId.new(h100, JAN_2026)
        repo.add_instrument(Instrument("COMPUTEDESK-H100-JAN-2026", contract, T0))
        moved = repo.set_expiration("COMPUTEDESK-H100-JAN-2026", T0 + DAY_NS)
        assert moved == Instrument("COMPUTEDESK-H100-JAN-2026", contract, T0 + DAY_NS)
        stored = repo.get_instrument("COMPUTEDESK-H100-JAN-2026")
        assert stored == moved
        assert stored is not None and stored.contract.date == JAN_2026  # name, not expiry
        cleared = repo.set_expiration("COMPUTEDESK-H100-JAN-2026", None)
        assert cleared.contract == contract and cleared.expiration_ns is None
        assert repo.get_instrument("COMPUTEDESK-H100-JAN-2026") == cleared
        assert len(repo.list_instruments()) == 1

    def test_set_expiration_of_an_unknown_symbol_is_not_found(self) -> None:
        repo, _ = self._with_h100()
        with pytest.raises(NotFound) as caught:
            repo.set_expiration("COMPUTEDESK-H100-JAN-2026", T0)
        assert (caught.value.field, caught.value.value) == ("symbol", "COMPUTEDESK-H100-JAN-2026")

    def test_duplicate_symbol_is_a_conflict(self) -> None:
        repo, h100 = self._with_h100()
        first = Instrument("COMPUTEDESK-H100-PERP", ContractId.perp(h100))
        repo.add_instrument(first)
        with pytest.raises(Conflict) as caught:
            repo.add_instrument(
                Instrument("COMPUTEDESK-H100-PERP", ContractId.new(h100, FEB_2026), T0)
            )
        assert (caught.value.field, caught.value.value) == ("symbol", "COMPUTEDESK-H100-PERP")
        assert list(repo.list_instruments()) == [first]

    def test_second_symbol_for_one_contract_is_a_conflict(self) -> None:
        repo, h100 = self._with_h100()
        first = Instrument("COMPUTEDESK-H100-JAN-2026", ContractId.new(h100, JAN_2026), T0)
        repo.add_instrument(first)
        with pytest.raises(Conflict):
            repo.add_instrument(Instrument("H100-JAN26", ContractId.new(h100, JAN_2026), T0))
        assert repo.get_instrument("H100-JAN26") is None
        assert list(repo.list_instruments()) == [first]

    def test_instrument_of_an_unknown_product_is_not_found(self) -> None:
        repo, _ = self._with_h100()
        ghost = Instrument("GHOST-PERP", ContractId.perp(ProductId(4001)))
        with pytest.raises(NotFound) as caught:
            repo.add_instrument(ghost)
        assert (caught.value.field, caught.value.value) == ("product_id", 4001)
        assert repo.get_instrument("GHOST-PERP") is None
        assert list(repo.list_instruments()) == []

    def test_instruments_of_seeded_products(self) -> None:
        repo = self.make_products()
        repo.seed_product(Product(ProductId(1009), "COMPUTEDESK-B200", T0))
        perp = Instrument("COMPUTEDESK-B200-PERP", ContractId.perp(ProductId(1009)))
        repo.add_instrument(perp)
        assert repo.get_instrument("COMPUTEDESK-B200-PERP") == perp
