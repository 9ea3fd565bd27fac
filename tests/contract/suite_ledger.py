"""Contract suite for the ledger port: TigerBeetle's rules, observed only through the port.

The same tests run against the in-process twin (memory and journaled) and, when a cluster
is configured, against a real TigerBeetle. They therefore never assume an empty ledger:
every test draws fresh random ids and a fresh ``user_data_32``, and checks scans only for
its own objects.
"""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

import attrs

from axdomain.ledger.port import (
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    LedgerPort,
    TransferError,
)
from axdomain.ledger.values import (
    U128_MAX,
    USD_LEDGER,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
)

A = CreateAccountResult
T = CreateTransferResult
QTY_LEDGER = 1001
BASIS_LEDGER = 1002
DMNEC = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
CMNED = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
LINKED = TransferFlags.LINKED
DEPOSIT = int(TransferCode.DEPOSIT)
WITHDRAWAL = int(TransferCode.WITHDRAWAL)
_V = TypeVar("_V", LedgerAccount, Transfer)


class Ids:
    """Fresh ids per test: random high bits, so reruns against a real cluster never collide."""

    def __init__(self) -> None:
        self._next = secrets.randbits(80) << 40
        self.user_data_32 = secrets.randbelow((1 << 32) - 2) + 1

    def __call__(self) -> int:
        self._next += 1
        return self._next


def account(
    account_id: int, ledger: int = USD_LEDGER, flags: AccountFlags = AccountFlags.NONE, **kw: Any
) -> LedgerAccount:
    return LedgerAccount(id=account_id, ledger=ledger, code=kw.pop("code", 1), flags=flags, **kw)


def transfer(
    transfer_id: int,
    debit: int,
    credit: int,
    amount: int,
    flags: TransferFlags = TransferFlags.NONE,
    **kw: Any,
) -> Transfer:
    return Transfer(
        id=transfer_id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        ledger=kw.pop("ledger", USD_LEDGER),
        code=kw.pop("code", DEPOSIT),
        flags=flags,
        **kw,
    )


def unchecked(value: _V, **changes: Any) -> _V:
    """A value with fields the constructor forbids (zero ids...), as a raw client could send."""
    with attrs.validators.disabled():
        return attrs.evolve(value, **changes)


def account_results(errors: list[AccountError]) -> dict[int, CreateAccountResult]:
    return {error.index: error.result for error in errors}


def transfer_results(errors: list[TransferError]) -> dict[int, CreateTransferResult]:
    return {error.index: error.result for error in errors}


class LedgerContract:
    def make_ledger(self) -> LedgerPort:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------

    def _funded(
        self, ledger: LedgerPort, ids: Ids, usd_micro: int, flags: AccountFlags = DMNEC
    ) -> tuple[int, int]:
        """A customer-like USD account holding ``usd_micro`` and the custody account."""
        customer, custody = ids(), ids()
        assert ledger.create_accounts([account(customer, flags=flags), account(custody)]) == []
        if usd_micro:
            deposit = transfer(ids(), custody, customer, usd_micro)
            assert ledger.create_transfers([deposit]) == []
        return customer, custody

    def _balances(self, ledger: LedgerPort, *account_ids: int) -> list[tuple[int, int]]:
        found = ledger.lookup_accounts(list(account_ids))
        assert [a.id for a in found] == list(account_ids)
        return [(a.debits_posted, a.credits_posted) for a in found]

    # -- accounts --------------------------------------------------------------------------

    def test_created_accounts_are_found_with_zero_balances_and_increasing_timestamps(
        self,
    ) -> None:
        ledger, ids = self.make_ledger(), Ids()
        first = account(ids(), user_data_128=7, user_data_64=8, user_data_32=9, code=3)
        second = account(ids(), ledger=QTY_LEDGER, flags=DMNEC)
        assert ledger.create_accounts([first, second]) == []
        found = ledger.lookup_accounts([second.id, first.id])
        assert [a.id for a in found] == [second.id, first.id]
        assert attrs.evolve(found[1], timestamp=0) == first
        assert attrs.evolve(found[0], timestamp=0) == second
        assert 0 < found[1].timestamp < found[0].timestamp
        assert found[0].net == 0 and found[0].debits_posted == found[0].credits_posted == 0

    def test_lookup_skips_unknown_ids_and_keeps_request_order(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        a, b = account(ids()), account(ids())
        assert ledger.create_accounts([a, b]) == []
        found = ledger.lookup_accounts([b.id, ids(), a.id, b.id])
        assert [x.id for x in found] == [b.id, a.id, b.id]
        assert ledger.lookup_accounts([]) == []

    def test_recreating_an_identical_account_is_exists_and_changes_nothing(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        original = account(ids(), user_data_64=5)
        assert ledger.create_accounts([original]) == []
        before = ledger.lookup_accounts([original.id])
        assert ledger.create_accounts([original]) == [AccountError(0, A.EXISTS)]
        assert ledger.lookup_accounts([original.id]) == before

    def test_recreating_with_one_field_changed_names_that_field(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        original = account(ids(), user_data_128=1, user_data_64=2, user_data_32=3, code=4)
        assert ledger.create_accounts([original]) == []
        variants = [
            (attrs.evolve(original, flags=DMNEC), A.EXISTS_WITH_DIFFERENT_FLAGS),
            (attrs.evolve(original, user_data_128=9), A.EXISTS_WITH_DIFFERENT_USER_DATA_128),
            (attrs.evolve(original, user_data_64=9), A.EXISTS_WITH_DIFFERENT_USER_DATA_64),
            (attrs.evolve(original, user_data_32=9), A.EXISTS_WITH_DIFFERENT_USER_DATA_32),
            (attrs.evolve(original, ledger=QTY_LEDGER), A.EXISTS_WITH_DIFFERENT_LEDGER),
            (attrs.evolve(original, code=9), A.EXISTS_WITH_DIFFERENT_CODE),
        ]
        results = ledger.create_accounts([variant for variant, _ in variants])
        assert results == [AccountError(i, want) for i, (_, want) in enumerate(variants)]

    def test_exists_checks_follow_tigerbeetle_precedence(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        original = account(ids())
        assert ledger.create_accounts([original]) == []
        flags_and_code = attrs.evolve(original, flags=DMNEC, code=9)
        ledger_and_code = attrs.evolve(original, ledger=QTY_LEDGER, code=9)
        # flags compare before everything; an existing id is judged before flag validity.
        both_limits = attrs.evolve(original, flags=DMNEC | CMNED)
        assert ledger.create_accounts([flags_and_code, ledger_and_code, both_limits]) == [
            AccountError(0, A.EXISTS_WITH_DIFFERENT_FLAGS),
            AccountError(1, A.EXISTS_WITH_DIFFERENT_LEDGER),
            AccountError(2, A.EXISTS_WITH_DIFFERENT_FLAGS),
        ]

    def test_account_field_rules(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        base = account(ids())
        cases = [
            (unchecked(base, id=0), A.ID_MUST_NOT_BE_ZERO),
            (attrs.evolve(base, id=U128_MAX), A.ID_MUST_NOT_BE_INT_MAX),
            (attrs.evolve(base, id=ids(), timestamp=1), A.TIMESTAMP_MUST_BE_ZERO),
            (attrs.evolve(base, id=ids(), flags=DMNEC | CMNED), A.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
            (attrs.evolve(base, id=ids(), debits_posted=1), A.DEBITS_POSTED_MUST_BE_ZERO),
            (attrs.evolve(base, id=ids(), credits_posted=1), A.CREDITS_POSTED_MUST_BE_ZERO),
            (unchecked(base, id=ids(), ledger=0), A.LEDGER_MUST_NOT_BE_ZERO),
            (unchecked(base, id=ids(), code=0), A.CODE_MUST_NOT_BE_ZERO),
            # precedence: the timestamp is judged before the id, posted before ledger.
            (unchecked(base, id=0, timestamp=5), A.TIMESTAMP_MUST_BE_ZERO),
            (unchecked(base, id=ids(), ledger=0, debits_posted=1), A.DEBITS_POSTED_MUST_BE_ZERO),
        ]
        results = ledger.create_accounts([case for case, _ in cases])
        assert results == [AccountError(i, want) for i, (_, want) in enumerate(cases)]
        created = [case.id for case, _ in cases if case.id not in (0, U128_MAX)]
        assert ledger.lookup_accounts(created) == []

    def test_a_linked_account_chain_is_all_or_nothing(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        linked = AccountFlags.LINKED
        existing = account(ids())
        assert ledger.create_accounts([existing]) == []
        first = account(ids(), flags=linked)
        bad = unchecked(account(ids(), flags=linked), code=0)
        third = account(ids())
        after = account(ids())
        results = ledger.create_accounts([first, bad, third, after])
        assert results == [
            AccountError(0, A.LINKED_EVENT_FAILED),
            AccountError(1, A.CODE_MUST_NOT_BE_ZERO),
            AccountError(2, A.LINKED_EVENT_FAILED),
        ]
        assert [a.id for a in ledger.lookup_accounts([first.id, third.id, after.id])] == [after.id]

    def test_an_account_chain_left_open_fails_whole(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        linked = AccountFlags.LINKED
        solo = account(ids())
        first, last = account(ids(), flags=linked), account(ids(), flags=linked)
        results = ledger.create_accounts([solo, first, last])
        assert results == [
            AccountError(1, A.LINKED_EVENT_FAILED),
            AccountError(2, A.LINKED_EVENT_CHAIN_OPEN),
        ]
        assert [a.id for a in ledger.lookup_accounts([solo.id, first.id, last.id])] == [solo.id]

    def test_query_accounts_by_ledger_and_user_data_32_in_creation_order(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        date = ids.user_data_32
        qty = account(ids(), ledger=QTY_LEDGER, user_data_32=date)
        basis = account(ids(), ledger=BASIS_LEDGER, user_data_32=date)
        qty_later = account(ids(), ledger=QTY_LEDGER, user_data_32=date)
        other_date = account(ids(), ledger=QTY_LEDGER, user_data_32=date ^ 1)
        assert ledger.create_accounts([qty, basis, qty_later, other_date]) == []
        assert other_date.user_data_32 != date
        found = ledger.query_accounts(QTY_LEDGER, date)
        assert [a.id for a in found] == [qty.id, qty_later.id]
        assert [a.id for a in ledger.query_accounts(BASIS_LEDGER, date)] == [basis.id]
        carry = transfer(ids(), qty.id, qty_later.id, 4, ledger=QTY_LEDGER, code=1)
        assert ledger.create_transfers([carry]) == []
        assert [a.net for a in ledger.query_accounts(QTY_LEDGER, date)] == [-4, 4]

    # -- transfers: success path -----------------------------------------------------------

    def test_a_transfer_moves_the_amount_and_is_found_with_its_timestamp(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        move = transfer(ids(), custody, customer, 2_500_000, user_data_128=1, user_data_64=2)
        assert ledger.create_transfers([move]) == []
        assert self._balances(ledger, customer, custody) == [(0, 2_500_000), (2_500_000, 0)]
        [found] = ledger.lookup_transfers([move.id])
        assert attrs.evolve(found, timestamp=0) == move
        [customer_account] = ledger.lookup_accounts([customer])
        assert found.timestamp > customer_account.timestamp > 0
        assert ledger.lookup_transfers([ids()]) == []

    def test_a_zero_amount_transfer_is_created(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        empty = transfer(ids(), customer, custody, 0)
        assert ledger.create_transfers([empty]) == []
        assert [t.id for t in ledger.lookup_transfers([empty.id])] == [empty.id]
        assert self._balances(ledger, customer) == [(0, 0)]

    def test_events_of_one_batch_see_the_earlier_ones(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        deposit = transfer(ids(), custody, customer, 100)
        withdraw = transfer(ids(), customer, custody, 100, code=WITHDRAWAL)
        assert ledger.create_transfers([deposit, withdraw]) == []
        assert self._balances(ledger, customer) == [(100, 100)]
        stamps = [t.timestamp for t in ledger.lookup_transfers([deposit.id, withdraw.id])]
        assert stamps[0] < stamps[1]

    def test_get_account_transfers_in_commit_order(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        other, _ = self._funded(ledger, ids, 0)
        moves = [
            transfer(ids(), custody, customer, 10),
            transfer(ids(), custody, other, 20),
            transfer(ids(), customer, other, 5, code=WITHDRAWAL),
        ]
        assert ledger.create_transfers(moves[:2]) == []
        assert ledger.create_transfers(moves[2:]) == []
        assert [t.id for t in ledger.get_account_transfers(customer)] == [
            moves[0].id,
            moves[2].id,
        ]
        assert [t.id for t in ledger.get_account_transfers(custody)] == [moves[0].id, moves[1].id]
        assert ledger.get_account_transfers(ids()) == []

    def test_scans_hold_own_objects_in_commit_order_with_balances(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 40)
        spend = transfer(ids(), customer, custody, 15, code=WITHDRAWAL)
        assert ledger.create_transfers([spend]) == []
        mine = {customer, custody}
        accounts = [a for a in ledger.scan_accounts() if a.id in mine]
        assert [a.id for a in accounts] == [customer, custody]
        assert [a.net for a in accounts] == [25, -25]
        transfers = [t for t in ledger.scan_transfers() if t.debit_account_id in mine]
        assert [t.amount for t in transfers] == [40, 15]
        assert transfers[1].id == spend.id
        assert transfers[0].timestamp < transfers[1].timestamp

    # -- transfers: rejections -------------------------------------------------------------

    def test_recreating_a_transfer_is_exists_or_names_the_changed_field(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        third, _ = self._funded(ledger, ids, 0)
        original = transfer(ids(), custody, customer, 9, user_data_128=1, user_data_64=2)
        assert ledger.create_transfers([original]) == []
        variants = [
            (original, T.EXISTS),
            (attrs.evolve(original, flags=LINKED), T.LINKED_EVENT_CHAIN_OPEN),
            (
                attrs.evolve(original, debit_account_id=third),
                T.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID,
            ),
            (
                attrs.evolve(original, credit_account_id=third),
                T.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID,
            ),
            (attrs.evolve(original, amount=10), T.EXISTS_WITH_DIFFERENT_AMOUNT),
            (attrs.evolve(original, user_data_128=3), T.EXISTS_WITH_DIFFERENT_USER_DATA_128),
            (attrs.evolve(original, user_data_64=3), T.EXISTS_WITH_DIFFERENT_USER_DATA_64),
            (attrs.evolve(original, user_data_32=3), T.EXISTS_WITH_DIFFERENT_USER_DATA_32),
            (attrs.evolve(original, ledger=QTY_LEDGER), T.EXISTS_WITH_DIFFERENT_LEDGER),
            (attrs.evolve(original, code=WITHDRAWAL), T.EXISTS_WITH_DIFFERENT_CODE),
            # the existing id is judged before the accounts are looked up
            (
                attrs.evolve(original, debit_account_id=ids()),
                T.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID,
            ),
        ]
        # one per batch: a LINKED variant would otherwise join the next event's chain.
        for variant, want in variants:
            assert ledger.create_transfers([variant]) == [TransferError(0, want)], want
        linked_variant = attrs.evolve(original, flags=LINKED)
        closer = transfer(ids(), custody, customer, 1)
        assert ledger.create_transfers([linked_variant, closer]) == [
            TransferError(0, T.EXISTS_WITH_DIFFERENT_FLAGS),
            TransferError(1, T.LINKED_EVENT_FAILED),
        ]
        assert self._balances(ledger, customer) == [(0, 9)]

    def test_transfer_field_rules_in_precedence_order(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        base = transfer(ids(), custody, customer, 1)
        unknown = ids()
        cases = [
            (unchecked(base, id=0), T.ID_MUST_NOT_BE_ZERO),
            (attrs.evolve(base, id=U128_MAX), T.ID_MUST_NOT_BE_INT_MAX),
            (attrs.evolve(base, id=ids(), timestamp=7), T.TIMESTAMP_MUST_BE_ZERO),
            (unchecked(base, id=ids(), debit_account_id=0), T.DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO),
            (
                attrs.evolve(base, id=ids(), debit_account_id=U128_MAX),
                T.DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
            ),
            (
                unchecked(base, id=ids(), credit_account_id=0),
                T.CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
            ),
            (
                attrs.evolve(base, id=ids(), credit_account_id=U128_MAX),
                T.CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
            ),
            (
                attrs.evolve(base, id=ids(), debit_account_id=unknown, credit_account_id=unknown),
                T.ACCOUNTS_MUST_BE_DIFFERENT,
            ),
            (unchecked(base, id=ids(), ledger=0), T.LEDGER_MUST_NOT_BE_ZERO),
            (unchecked(base, id=ids(), code=0), T.CODE_MUST_NOT_BE_ZERO),
            (unchecked(base, id=ids(), code=0, ledger=0), T.LEDGER_MUST_NOT_BE_ZERO),
            (attrs.evolve(base, id=ids(), debit_account_id=unknown), T.DEBIT_ACCOUNT_NOT_FOUND),
            (
                attrs.evolve(base, id=ids(), debit_account_id=unknown, credit_account_id=ids()),
                T.DEBIT_ACCOUNT_NOT_FOUND,
            ),
            (attrs.evolve(base, id=ids(), credit_account_id=unknown), T.CREDIT_ACCOUNT_NOT_FOUND),
        ]
        results = ledger.create_transfers([case for case, _ in cases])
        assert results == [TransferError(i, want) for i, (_, want) in enumerate(cases)]
        assert self._balances(ledger, customer, custody) == [(0, 0), (0, 0)]

    def test_ledgers_must_match(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        usd, custody = self._funded(ledger, ids, 0)
        qty, qty_other = ids(), ids()
        new = [account(qty, ledger=QTY_LEDGER), account(qty_other, ledger=QTY_LEDGER)]
        assert ledger.create_accounts(new) == []
        cross = transfer(ids(), custody, qty, 1)
        wrong_ledger = transfer(ids(), qty_other, qty, 1, ledger=USD_LEDGER, code=1)
        right = transfer(ids(), qty_other, qty, 1, ledger=QTY_LEDGER, code=1)
        assert ledger.create_transfers([cross, wrong_ledger, right]) == [
            TransferError(0, T.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER),
            TransferError(1, T.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS),
        ]
        assert self._balances(ledger, qty, usd) == [(0, 1), (0, 0)]

    def test_debits_must_not_exceed_credits(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        too_much = transfer(ids(), customer, custody, 101, code=WITHDRAWAL)
        exact = transfer(ids(), customer, custody, 100, code=WITHDRAWAL)
        one_more = transfer(ids(), customer, custody, 1, code=WITHDRAWAL)
        assert ledger.create_transfers([too_much, exact, one_more]) == [
            TransferError(0, T.EXCEEDS_CREDITS),
            TransferError(2, T.EXCEEDS_CREDITS),
        ]
        assert self._balances(ledger, customer) == [(100, 100)]

    def test_credits_must_not_exceed_debits(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        capped, source = ids(), ids()
        assert ledger.create_accounts([account(capped, flags=CMNED), account(source)]) == []
        into_capped = transfer(ids(), source, capped, 1)
        out_first = transfer(ids(), capped, source, 3)
        back_in = transfer(ids(), source, capped, 3)
        assert ledger.create_transfers([into_capped, out_first, back_in]) == [
            TransferError(0, T.EXCEEDS_DEBITS)
        ]
        assert self._balances(ledger, capped) == [(3, 3)]

    def test_posted_amounts_must_not_overflow_u128(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        big_debit, big_credit, spare = ids(), ids(), ids()
        new = [account(big_debit), account(big_credit), account(spare)]
        assert ledger.create_accounts(new) == []
        fill = transfer(ids(), big_debit, big_credit, U128_MAX)
        assert ledger.create_transfers([fill]) == []
        more_debits = transfer(ids(), big_debit, spare, 1)
        more_credits = transfer(ids(), spare, big_credit, 1)
        assert ledger.create_transfers([more_debits, more_credits]) == [
            TransferError(0, T.OVERFLOWS_DEBITS_POSTED),
            TransferError(1, T.OVERFLOWS_CREDITS_POSTED),
        ]
        assert self._balances(ledger, spare) == [(0, 0)]

    def test_a_transient_failure_burns_the_transfer_id(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 10)
        overdraw = transfer(ids(), customer, custody, 11, code=WITHDRAWAL)
        assert ledger.create_transfers([overdraw]) == [TransferError(0, T.EXCEEDS_CREDITS)]
        top_up = transfer(ids(), custody, customer, 1)
        assert ledger.create_transfers([top_up]) == []
        assert ledger.create_transfers([overdraw]) == [TransferError(0, T.ID_ALREADY_FAILED)]
        # a validation failure is not transient: the id stays free
        invalid = unchecked(transfer(ids(), customer, custody, 1), code=0)
        assert ledger.create_transfers([invalid]) == [TransferError(0, T.CODE_MUST_NOT_BE_ZERO)]
        assert ledger.create_transfers([attrs.evolve(invalid, code=WITHDRAWAL)]) == []
        assert self._balances(ledger, customer) == [(1, 11)]

    # -- linked chains ---------------------------------------------------------------------

    def test_a_linked_batch_whose_last_leg_overdraws_changes_no_balance(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        buyer, custody = self._funded(ledger, ids, 1_000)
        seller, _ = self._funded(ledger, ids, 0)
        qty_buyer, qty_seller = ids(), ids()
        new = [account(qty_buyer, ledger=QTY_LEDGER), account(qty_seller, ledger=QTY_LEDGER)]
        assert ledger.create_accounts(new) == []
        before = self._balances(ledger, buyer, seller, custody, qty_buyer, qty_seller)
        batch = [
            transfer(ids(), qty_seller, qty_buyer, 3, LINKED, ledger=QTY_LEDGER, code=1),
            transfer(ids(), buyer, seller, 900, LINKED, code=int(TransferCode.REALIZED_PNL)),
            transfer(ids(), buyer, custody, 101, code=int(TransferCode.FEE)),  # overdraws
        ]
        assert ledger.create_transfers(batch) == [
            TransferError(0, T.LINKED_EVENT_FAILED),
            TransferError(1, T.LINKED_EVENT_FAILED),
            TransferError(2, T.EXCEEDS_CREDITS),
        ]
        assert self._balances(ledger, buyer, seller, custody, qty_buyer, qty_seller) == before
        assert ledger.lookup_transfers([t.id for t in batch]) == []

    def test_a_failure_mid_chain_fails_the_rest_of_the_chain_only(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        before_chain = transfer(ids(), custody, customer, 1)
        chain = [
            transfer(ids(), custody, customer, 2, LINKED),
            transfer(ids(), customer, custody, 50, LINKED, code=WITHDRAWAL),  # exceeds
            transfer(ids(), custody, customer, 4, LINKED),
            transfer(ids(), custody, customer, 8),
        ]
        after_chain = transfer(ids(), custody, customer, 16)
        results = ledger.create_transfers([before_chain, *chain, after_chain])
        assert results == [
            TransferError(1, T.LINKED_EVENT_FAILED),
            TransferError(2, T.EXCEEDS_CREDITS),
            TransferError(3, T.LINKED_EVENT_FAILED),
            TransferError(4, T.LINKED_EVENT_FAILED),
        ]
        assert self._balances(ledger, customer) == [(0, 17)]

    def test_two_chains_in_one_batch_are_independent(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        good = [
            transfer(ids(), custody, customer, 5, LINKED),
            transfer(ids(), custody, customer, 6),
        ]
        bad = [
            transfer(ids(), custody, customer, 7, LINKED),
            transfer(ids(), customer, custody, 99, code=WITHDRAWAL),
        ]
        assert ledger.create_transfers([*good, *bad]) == [
            TransferError(2, T.LINKED_EVENT_FAILED),
            TransferError(3, T.EXCEEDS_CREDITS),
        ]
        assert self._balances(ledger, customer) == [(0, 11)]

    def test_a_chain_left_open_at_the_end_of_the_batch_fails_whole(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        batch = [
            transfer(ids(), custody, customer, 1),
            transfer(ids(), custody, customer, 2, LINKED),
            transfer(ids(), custody, customer, 4, LINKED),
        ]
        assert ledger.create_transfers(batch) == [
            TransferError(1, T.LINKED_EVENT_FAILED),
            TransferError(2, T.LINKED_EVENT_CHAIN_OPEN),
        ]
        lone = transfer(ids(), custody, customer, 8, LINKED)
        assert ledger.create_transfers([lone]) == [TransferError(0, T.LINKED_EVENT_CHAIN_OPEN)]
        assert self._balances(ledger, customer) == [(0, 1)]

    def test_exists_inside_a_chain_breaks_the_chain(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        done = transfer(ids(), custody, customer, 3)
        assert ledger.create_transfers([done]) == []
        retry = [
            transfer(ids(), custody, customer, 1, LINKED),
            attrs.evolve(done, flags=LINKED),
            transfer(ids(), custody, customer, 2),
        ]
        assert ledger.create_transfers(retry) == [
            TransferError(0, T.LINKED_EVENT_FAILED),
            TransferError(1, T.EXISTS_WITH_DIFFERENT_FLAGS),
            TransferError(2, T.LINKED_EVENT_FAILED),
        ]
        same_again = [transfer(ids(), custody, customer, 1, LINKED), done]
        assert ledger.create_transfers(same_again) == [
            TransferError(0, T.LINKED_EVENT_FAILED),
            TransferError(1, T.EXISTS),
        ]
        assert self._balances(ledger, customer) == [(0, 3)]

    def test_a_transfer_to_an_account_not_yet_created_fails(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 0)
        later = ids()
        early = transfer(ids(), custody, later, 1)
        assert ledger.create_transfers([early]) == [TransferError(0, T.CREDIT_ACCOUNT_NOT_FOUND)]
        assert ledger.create_accounts([account(later)]) == []
        assert ledger.create_transfers([transfer(ids(), custody, later, 1)]) == []
        assert self._balances(ledger, later, customer) == [(0, 1), (0, 0)]
