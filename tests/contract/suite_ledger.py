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
import pytest

from axdomain.errors import InvalidValue
from axdomain.ledger.port import (
    AccountError,
    CreateAccountResult,
    CreateTransferResult,
    LedgerBatchTooLarge,
    LedgerPort,
    TransferError,
)
from axdomain.ledger.values import (
    AMOUNT_MAX,
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
PENDING = TransferFlags.PENDING
POST = TransferFlags.POST_PENDING_TRANSFER
VOID = TransferFlags.VOID_PENDING_TRANSFER
CLOSING_DEBIT = TransferFlags.CLOSING_DEBIT
CLOSING_CREDIT = TransferFlags.CLOSING_CREDIT
CLOSED = AccountFlags.CLOSED
DEPOSIT = int(TransferCode.DEPOSIT)
WITHDRAWAL = int(TransferCode.WITHDRAWAL)
_V = TypeVar("_V", LedgerAccount, Transfer)


class Ids:
    """Fresh ids per test: random high bits, so reruns against a real cluster never collide."""

    def __init__(self) -> None:
        self._next = secrets.randbits(80) << 40
        self.user_data_32 = secrets.randbelow((1 << 32) - 2) + 1
        # A ledger of its own, for tests that read a whole ledger on a shared cluster.
        self.ledger = secrets.randbelow((1 << 32) - 1_000_000) + 1_000_000

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

    def let_time_pass(self, seconds: int) -> None:
        """Make at least ``seconds`` of the ledger's clock pass (a real cluster: sleep)."""
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

    # -- batch limits and queries ----------------------------------------------------------

    def test_a_batch_above_the_limit_is_refused_whole(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        limit = ledger.batch_events_max
        too_many = [account(ids()) for _ in range(limit + 1)]
        with pytest.raises(LedgerBatchTooLarge) as error:
            ledger.create_accounts(too_many)
        assert error.value.value == limit + 1
        assert ledger.lookup_accounts([too_many[0].id, too_many[-1].id]) == []
        customer, custody = self._funded(ledger, ids, 0)
        moves = [transfer(ids(), custody, customer, 1) for _ in range(limit + 1)]
        with pytest.raises(LedgerBatchTooLarge):
            ledger.create_transfers(moves)
        assert self._balances(ledger, customer) == [(0, 0)]

    def test_a_batch_at_the_limit_is_applied_and_lookups_cross_it(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        limit = ledger.batch_events_max
        full = [account(ids(), ledger=ids.ledger) for _ in range(limit)]
        assert ledger.create_accounts(full) == []
        found = ledger.lookup_accounts([a.id for a in full] + [full[0].id])
        assert [a.id for a in found] == [a.id for a in full] + [full[0].id]
        assert [a.id for a in ledger.query_accounts(ids.ledger)] == [a.id for a in full]

    def test_queries_need_a_ledger_and_filter_exactly(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        with pytest.raises(InvalidValue) as error:
            ledger.query_accounts(0, 0)
        assert error.value.field == "ledger"
        with pytest.raises(InvalidValue):
            ledger.query_accounts(0)
        with pytest.raises(InvalidValue):
            ledger.query_transfers(0)
        zero = account(ids(), ledger=ids.ledger)
        dated = account(ids(), ledger=ids.ledger, user_data_32=ids.user_data_32)
        elsewhere = account(ids(), ledger=ids.ledger + 1)
        assert ledger.create_accounts([zero, dated, elsewhere]) == []
        assert [a.id for a in ledger.query_accounts(ids.ledger, 0)] == [zero.id]
        assert [a.id for a in ledger.query_accounts(ids.ledger, ids.user_data_32)] == [dated.id]
        assert [a.id for a in ledger.query_accounts(ids.ledger)] == [zero.id, dated.id]

    def test_query_transfers_returns_one_ledger_in_commit_order(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        a, b = account(ids(), ledger=ids.ledger), account(ids(), ledger=ids.ledger)
        c, d = account(ids(), ledger=ids.ledger + 1), account(ids(), ledger=ids.ledger + 1)
        assert ledger.create_accounts([a, b, c, d]) == []
        first = transfer(ids(), a.id, b.id, 1, ledger=ids.ledger)
        other = transfer(ids(), c.id, d.id, 2, ledger=ids.ledger + 1)
        second = transfer(ids(), b.id, a.id, 3, ledger=ids.ledger)
        assert ledger.create_transfers([first, other]) == []
        assert ledger.create_transfers([second]) == []
        assert [t.id for t in ledger.query_transfers(ids.ledger)] == [first.id, second.id]
        assert [t.id for t in ledger.query_transfers(ids.ledger + 1)] == [other.id]

    def test_reserved_flag_bits_are_refused_per_event(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        reserved_account = AccountFlags(1 << 6)
        good = account(ids())
        assert ledger.create_accounts(
            [
                account(ids(), flags=reserved_account),
                unchecked(account(ids(), flags=reserved_account), timestamp=1),
                unchecked(account(ids(), flags=reserved_account), id=0),
                good,
            ]
        ) == [
            AccountError(0, A.RESERVED_FLAG),
            AccountError(1, A.TIMESTAMP_MUST_BE_ZERO),
            AccountError(2, A.RESERVED_FLAG),
        ]
        customer, custody = self._funded(ledger, ids, 0)
        reserved_transfer = TransferFlags(1 << 9)
        assert ledger.create_transfers(
            [
                transfer(ids(), custody, customer, 1, reserved_transfer),
                unchecked(transfer(ids(), custody, customer, 1, reserved_transfer), id=0),
                transfer(ids(), custody, customer, 2),
            ]
        ) == [TransferError(0, T.RESERVED_FLAG), TransferError(1, T.RESERVED_FLAG)]
        assert self._balances(ledger, customer, good.id) == [(0, 2), (0, 0)]

    # -- two-phase transfers ---------------------------------------------------------------

    def _reserve(
        self, ledger: LedgerPort, ids: Ids, debit: int, credit: int, amount: int, **kw: Any
    ) -> Transfer:
        pending = transfer(ids(), debit, credit, amount, PENDING, code=WITHDRAWAL, **kw)
        assert ledger.create_transfers([pending]) == []
        return pending

    def _pending_balances(self, ledger: LedgerPort, *account_ids: int) -> list[tuple[int, int]]:
        found = ledger.lookup_accounts(list(account_ids))
        return [(a.debits_pending, a.credits_pending) for a in found]

    def test_a_pending_transfer_reserves_without_posting_and_counts_against_credits(
        self,
    ) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        self._reserve(ledger, ids, customer, custody, 60)
        assert self._balances(ledger, customer, custody) == [(0, 100), (100, 0)]
        assert self._pending_balances(ledger, customer, custody) == [(60, 0), (0, 60)]
        [found] = ledger.lookup_accounts([customer])
        assert found.available == 40 and found.net == 100
        over = transfer(ids(), customer, custody, 41, code=WITHDRAWAL)
        over_pending = transfer(ids(), customer, custody, 41, PENDING, code=WITHDRAWAL)
        rest = transfer(ids(), customer, custody, 40, code=WITHDRAWAL)
        assert ledger.create_transfers([over, over_pending, rest]) == [
            TransferError(0, T.EXCEEDS_CREDITS),
            TransferError(1, T.EXCEEDS_CREDITS),
        ]
        assert self._balances(ledger, customer) == [(40, 100)]

    def test_posting_moves_the_reserve_into_posted_balances(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        whole = self._reserve(ledger, ids, customer, custody, 60, user_data_128=77)
        part = self._reserve(ledger, ids, customer, custody, 30)
        post_all = unchecked(
            transfer(ids(), customer, custody, AMOUNT_MAX, POST, pending_id=whole.id),
            debit_account_id=0,
            credit_account_id=0,
            ledger=0,
            code=0,
        )
        post_part = transfer(
            ids(), customer, custody, 10, POST, code=WITHDRAWAL, pending_id=part.id
        )
        assert ledger.create_transfers([post_all, post_part]) == []
        assert self._balances(ledger, customer, custody) == [(70, 100), (100, 70)]
        assert self._pending_balances(ledger, customer, custody) == [(0, 0), (0, 0)]
        stored = ledger.lookup_transfers([post_all.id, post_part.id])
        assert [(t.debit_account_id, t.credit_account_id, t.ledger, t.code) for t in stored] == [
            (customer, custody, USD_LEDGER, WITHDRAWAL)
        ] * 2
        assert [t.amount for t in stored] == [60, 10]
        assert stored[0].user_data_128 == 77  # a zero field takes the pending's value
        assert [t.pending_id for t in stored] == [whole.id, part.id]

    def test_voiding_releases_the_reserve_and_posts_nothing(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        first = self._reserve(ledger, ids, customer, custody, 60)
        second = self._reserve(ledger, ids, customer, custody, 40)
        void_zero = transfer(
            ids(), customer, custody, 0, VOID, code=WITHDRAWAL, pending_id=first.id
        )
        void_exact = transfer(
            ids(), customer, custody, 40, VOID, code=WITHDRAWAL, pending_id=second.id
        )
        assert ledger.create_transfers([void_zero, void_exact]) == []
        assert self._balances(ledger, customer) == [(0, 100)]
        assert self._pending_balances(ledger, customer, custody) == [(0, 0), (0, 0)]
        assert [t.amount for t in ledger.lookup_transfers([void_zero.id])] == [60]

    def test_a_pending_transfer_resolves_at_most_once(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        posted = self._reserve(ledger, ids, customer, custody, 10)
        voided = self._reserve(ledger, ids, customer, custody, 20)

        def resolve(flag: TransferFlags, pending: Transfer, amount: int = 0) -> Transfer:
            return transfer(
                ids(), customer, custody, amount, flag, code=WITHDRAWAL, pending_id=pending.id
            )

        assert ledger.create_transfers([resolve(POST, posted, 10), resolve(VOID, voided)]) == []
        assert ledger.create_transfers(
            [
                resolve(POST, posted, 10),
                resolve(VOID, posted),
                resolve(POST, voided, 20),
                resolve(VOID, voided),
            ]
        ) == [
            TransferError(0, T.PENDING_TRANSFER_ALREADY_POSTED),
            TransferError(1, T.PENDING_TRANSFER_ALREADY_POSTED),
            TransferError(2, T.PENDING_TRANSFER_ALREADY_VOIDED),
            TransferError(3, T.PENDING_TRANSFER_ALREADY_VOIDED),
        ]
        assert self._balances(ledger, customer) == [(10, 100)]

    def test_post_and_void_rules_in_precedence_order(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        other, _ = self._funded(ledger, ids, 0)
        pending = self._reserve(ledger, ids, customer, custody, 50)
        single = transfer(ids(), custody, customer, 1)
        assert ledger.create_transfers([single]) == []
        base = transfer(ids(), customer, custody, 50, POST, code=WITHDRAWAL, pending_id=pending.id)
        cases = [
            (attrs.evolve(base, id=ids(), flags=POST | VOID), T.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
            (attrs.evolve(base, id=ids(), flags=POST | PENDING), T.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
            (attrs.evolve(base, id=ids(), pending_id=0), T.PENDING_ID_MUST_NOT_BE_ZERO),
            (attrs.evolve(base, id=ids(), pending_id=U128_MAX), T.PENDING_ID_MUST_NOT_BE_INT_MAX),
            (
                attrs.evolve(base, id=pending.id + 10**6, pending_id=pending.id + 10**6),
                T.PENDING_ID_MUST_BE_DIFFERENT,
            ),
            (attrs.evolve(base, id=ids(), timeout=1), T.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER),
            (attrs.evolve(base, id=ids(), pending_id=single.id), T.PENDING_TRANSFER_NOT_PENDING),
            (
                attrs.evolve(base, id=ids(), debit_account_id=other),
                T.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID,
            ),
            (
                attrs.evolve(base, id=ids(), credit_account_id=other),
                T.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID,
            ),
            (
                attrs.evolve(base, id=ids(), ledger=QTY_LEDGER),
                T.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER,
            ),
            (attrs.evolve(base, id=ids(), code=DEPOSIT), T.PENDING_TRANSFER_HAS_DIFFERENT_CODE),
            (attrs.evolve(base, id=ids(), amount=51), T.EXCEEDS_PENDING_TRANSFER_AMOUNT),
            (
                attrs.evolve(base, id=ids(), flags=VOID, amount=49),
                T.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT,
            ),
            (
                attrs.evolve(base, id=ids(), flags=VOID, amount=51),
                T.EXCEEDS_PENDING_TRANSFER_AMOUNT,
            ),
        ]
        results = ledger.create_transfers([case for case, _ in cases])
        assert results == [TransferError(i, want) for i, (_, want) in enumerate(cases)]
        assert self._pending_balances(ledger, customer) == [(50, 0)]

    def test_an_unknown_pending_transfer_burns_the_posting_id(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        later = ids()
        early = transfer(ids(), customer, custody, 5, POST, code=WITHDRAWAL, pending_id=later)
        assert ledger.create_transfers([early]) == [TransferError(0, T.PENDING_TRANSFER_NOT_FOUND)]
        pending = transfer(later, customer, custody, 5, PENDING, code=WITHDRAWAL)
        assert ledger.create_transfers([pending]) == []
        assert ledger.create_transfers([early]) == [TransferError(0, T.ID_ALREADY_FAILED)]

    def test_fields_only_a_two_phase_transfer_may_carry(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        cases = [
            (transfer(ids(), custody, customer, 1, pending_id=ids()), T.PENDING_ID_MUST_BE_ZERO),
            (
                transfer(ids(), custody, customer, 1, timeout=5),
                T.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
            ),
            (
                transfer(ids(), custody, customer, 0, CLOSING_DEBIT),
                T.CLOSING_TRANSFER_MUST_BE_PENDING,
            ),
            (
                transfer(ids(), custody, customer, 1, PENDING, pending_id=ids()),
                T.PENDING_ID_MUST_BE_ZERO,
            ),
        ]
        results = ledger.create_transfers([case for case, _ in cases])
        assert results == [TransferError(i, want) for i, (_, want) in enumerate(cases)]

    def test_resubmitting_a_two_phase_transfer(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        pending = self._reserve(ledger, ids, customer, custody, 30, timeout=3600)
        post = transfer(ids(), customer, custody, 30, POST, code=WITHDRAWAL, pending_id=pending.id)
        assert ledger.create_transfers([post]) == []
        variants = [
            (pending, T.EXISTS),
            (attrs.evolve(pending, timeout=60), T.EXISTS_WITH_DIFFERENT_TIMEOUT),
            (post, T.EXISTS),
            (attrs.evolve(post, pending_id=ids()), T.EXISTS_WITH_DIFFERENT_PENDING_ID),
            (attrs.evolve(post, amount=29), T.EXISTS_WITH_DIFFERENT_AMOUNT),
        ]
        for variant, want in variants:
            assert ledger.create_transfers([variant]) == [TransferError(0, want)], want
        assert self._balances(ledger, customer) == [(30, 100)]

    def test_an_expired_reservation_cannot_be_posted_or_voided(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 100)
        pending = self._reserve(ledger, ids, customer, custody, 60, timeout=1)
        self.let_time_pass(2)
        post = transfer(ids(), customer, custody, 60, POST, code=WITHDRAWAL, pending_id=pending.id)
        void = transfer(ids(), customer, custody, 60, VOID, code=WITHDRAWAL, pending_id=pending.id)
        assert ledger.create_transfers([post, void]) == [
            TransferError(0, T.PENDING_TRANSFER_EXPIRED),
            TransferError(1, T.PENDING_TRANSFER_EXPIRED),
        ]
        assert self._balances(ledger, customer) == [(0, 100)]

    # -- closing accounts ------------------------------------------------------------------

    def test_a_closing_transfer_closes_until_it_is_voided(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        customer, custody = self._funded(ledger, ids, 10)
        close = transfer(ids(), customer, custody, 0, PENDING | CLOSING_DEBIT, code=WITHDRAWAL)
        assert ledger.create_transfers([close]) == []
        [closed, still_open] = ledger.lookup_accounts([customer, custody])
        assert closed.flags & CLOSED and closed.is_closed
        assert not still_open.is_closed
        into = transfer(ids(), custody, customer, 1)
        out_of = transfer(ids(), customer, custody, 1, code=WITHDRAWAL)
        post = transfer(ids(), customer, custody, 0, POST, code=WITHDRAWAL, pending_id=close.id)
        assert ledger.create_transfers([into, out_of, post]) == [
            TransferError(0, T.CREDIT_ACCOUNT_ALREADY_CLOSED),
            TransferError(1, T.DEBIT_ACCOUNT_ALREADY_CLOSED),
            TransferError(2, T.DEBIT_ACCOUNT_ALREADY_CLOSED),
        ]
        assert ledger.create_transfers([into]) == [TransferError(0, T.ID_ALREADY_FAILED)]
        reopen = transfer(ids(), customer, custody, 0, VOID, code=WITHDRAWAL, pending_id=close.id)
        assert ledger.create_transfers([reopen]) == []
        assert not ledger.lookup_accounts([customer])[0].is_closed
        assert ledger.create_transfers([transfer(ids(), custody, customer, 1)]) == []
        assert self._balances(ledger, customer) == [(0, 11)]

    def test_closing_both_sides_and_an_account_created_closed(self) -> None:
        ledger, ids = self.make_ledger(), Ids()
        left, right = ids(), ids()
        born_closed = account(ids(), flags=CLOSED)
        assert ledger.create_accounts([account(left), account(right), born_closed]) == []
        both = transfer(ids(), left, right, 0, PENDING | CLOSING_DEBIT | CLOSING_CREDIT)
        assert ledger.create_transfers([both]) == []
        found = ledger.lookup_accounts([left, right, born_closed.id])
        assert [a.is_closed for a in found] == [True, True, True]
        assert ledger.create_transfers([transfer(ids(), left, born_closed.id, 0)]) == [
            TransferError(0, T.DEBIT_ACCOUNT_ALREADY_CLOSED)
        ]
