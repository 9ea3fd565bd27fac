"""Value boundaries and the promise of ``errors.py``: every rejection names its field and
carries the offending value, for every public constructor and parser.

Boundaries are tested on both sides (the last accepted value and the first refused), so an
off-by-one in a range check (``<=`` turned ``<``) is noticed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from axdomain import (
    Account,
    AccountId,
    AccountKind,
    AccountLimits,
    Action,
    ApiKey,
    Conflict,
    ContractDate,
    ContractId,
    DomainError,
    FeeSchedule,
    Grant,
    Instrument,
    InvalidValue,
    KeyScopeError,
    Order,
    Permissions,
    Position,
    Product,
    ProductId,
    ProductIdSequence,
    Side,
    TbAccountRef,
    TimeInForce,
    UnknownAction,
    UserId,
    decode_tb_account_id,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    generate_participant,
    mint_api_key,
    parse_participant,
    parse_token,
    participant_path,
)
from axdomain.ledger.values import LedgerAccount, Transfer, pack_price_qty, unpack_price_qty

ALICE = UserId(0x0190_0000_0000_0001)
DESK = AccountId(0x0190_0000_0000_00D0)
PERP = ContractId.perp(ProductId(1001))
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1

# ---------------------------------------------------------------------- calendar dates


@pytest.mark.parametrize(
    "value",
    [
        20240229,  # leap year
        20000229,  # divisible by 400
        20240131,
        20240331,
        20240430,
        20241231,
        20240101,
        10000101,  # first year with eight digits
        99991231,  # last one
        0,  # perpetual
    ],
)
def test_contract_date_accepts(value: int) -> None:
    date = ContractDate(value)
    assert date.value == value
    assert ContractId.new(ProductId(1001), date).date == date


@pytest.mark.parametrize(
    "value",
    [
        20230229,  # not a leap year
        19000229,  # divisible by 100, not by 400
        20240230,  # February 30 even in a leap year
        20240431,
        20240132,
        20240100,
        20240001,
        20241301,
        9991231,  # year 999
        100000101,  # year 10000
        -20240101,
    ],
)
def test_contract_date_refuses(value: int) -> None:
    with pytest.raises(InvalidValue) as error:
        ContractDate(value)
    assert (error.value.field, error.value.value) == ("contract_date", value)


def test_contract_date_parts() -> None:
    date = ContractDate(20240229)
    assert (date.year, date.month, date.day, date.is_perpetual) == (2024, 2, 29, False)
    perpetual = ContractDate.perpetual()
    assert (perpetual.value, perpetual.year, perpetual.is_perpetual) == (0, 0, True)


def test_contract_id_of_an_invalid_date_names_the_contract_field() -> None:
    packed = (20230229 << 32) | 1001
    with pytest.raises(InvalidValue) as error:
        ContractId(packed)
    assert (error.value.field, error.value.value) == ("contract_id", packed)
    assert error.value.problem.startswith("contract_date: ")
    assert ContractId((20240229 << 32) | 1001).date == ContractDate(20240229)


# ------------------------------------------------------------------------ id boundaries


@pytest.mark.parametrize(
    ("make", "low", "high"),
    [
        (UserId, 1 << 16, U64_MAX),
        (AccountId, 1, U64_MAX),
        (ProductId, 1001, (1 << 32) - 3),
    ],
)
def test_id_ranges_are_inclusive(make: Callable[[int], object], low: int, high: int) -> None:
    assert getattr(make(low), "value") == low  # noqa: B009
    assert getattr(make(high), "value") == high  # noqa: B009
    for outside in (low - 2 if make is ProductId else low - 1, high + 2):
        with pytest.raises(InvalidValue):
            make(outside)


def test_ids_round_trip_their_text_forms_at_the_edges() -> None:
    for user in (UserId(1 << 16), UserId(U64_MAX)):
        assert UserId.from_hex(str(user)) == user
        assert UserId.from_ulid_text(user.ulid_text()) == user
    assert AccountId.from_ulid_text(AccountId(1).ulid_text()) == AccountId(1)


# --------------------------------------------- every DomainError names field and value


def _account(**overrides: object) -> Account:
    fields: dict[str, object] = {
        "account_id": DESK,
        "name": "desk",
        "kind": AccountKind.CUSTOMER,
        "ubo_user_id": ALICE,
        "created_at_ns": 0,
    }
    fields.update(overrides)
    return Account(**fields)  # type: ignore[arg-type]


def _order(**overrides: object) -> Order:
    fields: dict[str, object] = {
        "order_id": 1,
        "account_id": DESK,
        "user_id": ALICE,
        "client_order_id": "c-1",
        "contract": PERP,
        "side": Side.BUY,
        "qty_lots": 1,
        "limit_price_micro_usd": 1,
        "time_in_force": TimeInForce.GTC,
        "created_at_ns": 0,
    }
    fields.update(overrides)
    return Order(**fields)  # type: ignore[arg-type]


def _mint(**overrides: object) -> object:
    fields: dict[str, object] = {
        "key_id": 1,
        "user_id": ALICE,
        "account_id": DESK,
        "scope": Permissions.READ_ONLY,
        "grant": Grant(ALICE, DESK, Permissions.TRADER),
        "secret": bytes(32),
        "pepper": bytes(32),
        "now_ns": 0,
    }
    fields.update(overrides)
    return mint_api_key(**fields)  # type: ignore[arg-type]


LOW_BITS_ULID = "0000000001" + "0" * 15 + "1"
ZERO_ULID = "0" * 26
EVEN_LOW = 20240101 << 32 | 1002
RESERVED_ULID = AccountId(5).ulid_text()  # a system account's id: never a user
BAD_TB_ID = (1 << 64) | (1 << 63) | 1001

ERROR_CASES: list[tuple[str, Callable[[], object], type[DomainError], str, object]] = [
    # (case id, call, error type, field, value)
    ("user_id_low", lambda: UserId(5), InvalidValue, "user_id", 5),
    ("user_id_bool", lambda: UserId(True), InvalidValue, "user_id", True),
    ("user_id_str", lambda: UserId("1"), InvalidValue, "user_id", "1"),  # type: ignore[arg-type]
    ("account_id_zero", lambda: AccountId(0), InvalidValue, "account_id", 0),
    ("account_id_wide", lambda: AccountId(1 << 64), InvalidValue, "account_id", 1 << 64),
    ("user_from_hex", lambda: UserId.from_hex("ABC"), InvalidValue, "user_id", "ABC"),
    ("account_from_hex", lambda: AccountId.from_hex(5), InvalidValue, "account_id", 5),
    ("user_ulid_short", lambda: UserId.from_ulid_text("x"), InvalidValue, "user_id", "x"),
    ("user_ulid_char", lambda: UserId.from_ulid_text("I" * 26), InvalidValue, "user_id", "I" * 26),
    ("user_ulid_overflow", lambda: UserId.from_ulid_text("8" + "0" * 25), InvalidValue,
     "user_id", "8" + "0" * 25),
    ("user_ulid_low_bits", lambda: UserId.from_ulid_text(LOW_BITS_ULID), InvalidValue,
     "user_id", LOW_BITS_ULID),
    ("user_ulid_zero", lambda: UserId.from_ulid_text(ZERO_ULID), InvalidValue, "user_id",
     ZERO_ULID),
    ("user_ulid_reserved", lambda: UserId.from_ulid_text(RESERVED_ULID), InvalidValue,
     "user_id", RESERVED_ULID),
    ("account_ulid_zero", lambda: AccountId.from_ulid_text(ZERO_ULID), InvalidValue,
     "account_id", ZERO_ULID),
    ("product_even", lambda: ProductId(1002), InvalidValue, "product_id", 1002),
    ("product_low", lambda: ProductId(999), InvalidValue, "product_id", 999),
    ("contract_date", lambda: ContractDate(20240230), InvalidValue, "contract_date", 20240230),
    ("contract_date_year", lambda: ContractDate(9991231), InvalidValue, "contract_date", 9991231),
    ("contract_even_product", lambda: ContractId(EVEN_LOW), InvalidValue, "contract_id", EVEN_LOW),
    ("contract_date_type", lambda: ContractDate("20240101"), InvalidValue, "contract_date",
     "20240101"),  # type: ignore[arg-type]
    ("contract_tag", lambda: ContractId(1 << 63 | 1001), InvalidValue, "contract_id",
     1 << 63 | 1001),
    ("contract_usd_dated", lambda: ContractId(20240101 << 32 | 1), InvalidValue, "contract_id",
     20240101 << 32 | 1),
    ("contract_negative", lambda: ContractId(-1), InvalidValue, "contract_id", -1),
    ("contract_new_product", lambda: ContractId.new(1001, ContractDate(0)), InvalidValue,
     "product", 1001),  # type: ignore[arg-type]
    ("contract_new_date", lambda: ContractId.new(ProductId(1001), 0), InvalidValue,
     "contract_date", 0),  # type: ignore[arg-type]
    ("contract_perp_product", lambda: ContractId.perp(1001), InvalidValue, "product", 1001),  # type: ignore[arg-type]
    ("usd_product", lambda: ContractId.usd().product, InvalidValue, "contract_id", 1),
    ("account_name", lambda: _account(name=" desk"), InvalidValue, "name", " desk"),
    ("account_name_type", lambda: _account(name=5), InvalidValue, "name", 5),
    ("account_created", lambda: _account(created_at_ns=-1), InvalidValue, "created_at_ns", -1),
    ("account_no_ubo", lambda: _account(ubo_user_id=None), InvalidValue, "ubo_user_id", None),
    ("system_with_ubo", lambda: _account(account_id=AccountId(7), kind=AccountKind.SYSTEM),
     InvalidValue, "ubo_user_id", ALICE),
    ("customer_reserved", lambda: _account(account_id=AccountId(7)), InvalidValue,
     "account_id", AccountId(7)),
    ("account_id_type", lambda: _account(account_id=7), InvalidValue, "account_id", 7),
    ("account_frozen_type", lambda: _account(is_frozen=1), InvalidValue, "is_frozen", 1),
    ("account_close_only_type", lambda: _account(is_close_only="no"), InvalidValue,
     "is_close_only", "no"),
    ("fee_high", lambda: FeeSchedule(maker_fee_bps=10_001), InvalidValue, "maker_fee_bps",
     10_001),
    ("fee_low", lambda: FeeSchedule(taker_fee_bps=-10_001), InvalidValue, "taker_fee_bps",
     -10_001),
    ("limit_negative", lambda: AccountLimits(max_open_positions=-1), InvalidValue,
     "max_open_positions", -1),
    ("limit_wide", lambda: AccountLimits(max_notional_micro_usd=1 << 63), InvalidValue,
     "max_notional_micro_usd", 1 << 63),
    ("permission_type", lambda: Permissions(can_read=1), InvalidValue, "can_read", 1),  # type: ignore[arg-type]
    ("permission_flag", lambda: Permissions.from_flags({"can_fly"}), InvalidValue,
     "permissions", ["can_fly"]),
    ("action", lambda: Action.parse("fly"), UnknownAction, "action", "fly"),
    ("action_type", lambda: Action.parse(3), UnknownAction, "action", 3),
    ("order_id", lambda: _order(order_id=0), InvalidValue, "order_id", 0),
    ("order_qty", lambda: _order(qty_lots=0), InvalidValue, "qty_lots", 0),
    ("order_price", lambda: _order(limit_price_micro_usd=1 << 63), InvalidValue,
     "limit_price_micro_usd", 1 << 63),
    ("order_client_id", lambda: _order(client_order_id=""), InvalidValue, "client_order_id",
     ""),
    ("api_key_id", lambda: ApiKey(0, ALICE, DESK, Permissions.READ_ONLY, b"", 0), InvalidValue,
     "key_id", 0),
    ("mint_no_grant", lambda: _mint(grant=None), KeyScopeError, "scope", ["can_list", "can_read"]),
    ("mint_other_grant", lambda: _mint(grant=Grant(ALICE, AccountId(9 << 16), Permissions.TRADER)),
     KeyScopeError, "scope", ["can_list", "can_read"]),
    ("mint_wider", lambda: _mint(scope=Permissions.FULL_ACCESS), KeyScopeError, "scope",
     sorted(Permissions.FULL_ACCESS.flags())),
    ("mint_empty", lambda: _mint(scope=Permissions.NONE), KeyScopeError, "scope", []),
    ("mint_secret", lambda: _mint(secret=bytes(31)), InvalidValue, "secret", "<31 bytes>"),
    ("mint_pepper", lambda: _mint(pepper=bytes(31)), InvalidValue, "pepper", "<31 bytes>"),
    ("token_type", lambda: parse_token(5), InvalidValue, "api_key", "<redacted>"),
    ("token_shape", lambda: parse_token("axk_1_2"), InvalidValue, "api_key", "<redacted>"),
    ("ledger_account_id", lambda: LedgerAccount(id=0, ledger=1, code=1), InvalidValue, "id", 0),
    ("ledger_account_ledger", lambda: LedgerAccount(id=1, ledger=1 << 32, code=1), InvalidValue,
     "ledger", 1 << 32),
    ("ledger_account_code", lambda: LedgerAccount(id=1, ledger=1, code=0), InvalidValue, "code",
     0),
    ("ledger_account_udata", lambda: LedgerAccount(id=1, ledger=1, code=1, user_data_32=-1),
     InvalidValue, "user_data_32", -1),
    ("transfer_amount", lambda: Transfer(1, 2, 3, -1, 1, 1), InvalidValue, "amount", -1),
    ("transfer_debit", lambda: Transfer(1, 0, 3, 1, 1, 1), InvalidValue, "debit_account_id", 0),
    ("transfer_u64", lambda: Transfer(1, 2, 3, 1, 1, 1, user_data_64=1 << 64), InvalidValue,
     "user_data_64", 1 << 64),
    ("pack_price", lambda: pack_price_qty(-1, 1), InvalidValue, "price_micro_usd", -1),
    ("pack_qty", lambda: pack_price_qty(1, 1 << 64), InvalidValue, "qty_lots", 1 << 64),
    ("unpack", lambda: unpack_price_qty(1 << 128), InvalidValue, "user_data_128", 1 << 128),
    ("ref_account", lambda: TbAccountRef(7, PERP), InvalidValue, "account_id", 7),  # type: ignore[arg-type]
    ("ref_contract", lambda: TbAccountRef(DESK, 1001), InvalidValue, "contract", 1001),  # type: ignore[arg-type]
    ("ref_usd_basis", lambda: TbAccountRef(DESK, ContractId.usd(), True), InvalidValue,
     "contract", 1),
    ("ref_basis_type", lambda: TbAccountRef(DESK, PERP, 1), InvalidValue, "is_basis", 1),  # type: ignore[arg-type]
    ("decode_zero", lambda: decode_tb_account_id(0), InvalidValue, "tb_account_id", 0),
    ("decode_tag", lambda: decode_tb_account_id(BAD_TB_ID), InvalidValue, "tb_account_id",
     BAD_TB_ID),
    ("decode_wide", lambda: decode_tb_account_id(1 << 128), InvalidValue, "tb_account_id",
     1 << 128),
    ("derive_account", lambda: derive_tb_account_id(7, PERP), InvalidValue, "account_id", 7),  # type: ignore[arg-type]
    ("derive_contract", lambda: derive_tb_account_id(DESK, 1001), InvalidValue, "contract", 1001),  # type: ignore[arg-type]
    ("derive_usd_basis", lambda: derive_tb_basis_account_id(DESK, ContractId.usd()),
     InvalidValue, "contract", 1),
    ("participant_account", lambda: generate_participant(7), InvalidValue, "account_id", 7),  # type: ignore[arg-type]
    ("participant_prefix", lambda: generate_participant(DESK, "Ax"), InvalidValue,
     "participant_prefix", "Ax"),
    ("participant_firm", lambda: participant_path("a/b", DESK), InvalidValue, "firm", "a/b"),
    ("participant_parse", lambda: parse_participant("firms/f/users/ax.1"), InvalidValue,
     "participant", "firms/f/users/ax.1"),
    ("participant_zero", lambda: parse_participant(f"firms/f/users/ax.{ZERO_ULID}"),
     InvalidValue, "participant", f"firms/f/users/ax.{ZERO_ULID}"),
    ("position_qty", lambda: Position(qty_lots=1.5), InvalidValue, "qty_lots", 1.5),  # type: ignore[arg-type]
    ("position_basis", lambda: Position(basis_micro_usd=None), InvalidValue, "basis_micro_usd",
     None),  # type: ignore[arg-type]
    ("product_row_id", lambda: Product(1001, "x", 0), InvalidValue, "product_id", 1001),  # type: ignore[arg-type]
    ("product_row_time", lambda: Product(ProductId(1001), "x", -1), InvalidValue,
     "created_at_ns", -1),
    ("instrument_usd", lambda: Instrument("USD", ContractId.usd()), InvalidValue, "contract", 1),
    ("instrument_perp_expiry", lambda: Instrument("P", PERP, 5), InvalidValue, "expiration_ns",
     5),
    ("product_seq_even", lambda: ProductIdSequence(1002), InvalidValue, "product_id_seq", 1002),
    ("product_seq_exhausted", lambda: ProductIdSequence((1 << 32) - 1).peek(), Conflict,
     "product_id_seq", (1 << 32) - 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "kind", "field", "value"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_every_domain_error_names_the_field_and_carries_the_value(
    call: Callable[[], object], kind: type[DomainError], field: str, value: object
) -> None:
    with pytest.raises(DomainError) as error:
        call()
    assert type(error.value) is kind
    assert isinstance(error.value, ValueError)
    assert (error.value.field, error.value.value) == (field, value)
    assert type(error.value.value) is type(value)
    assert error.value.problem
    assert str(error.value) == f"{field}={value!r}: {error.value.problem}"


def test_error_cases_are_unique() -> None:
    names = [case[0] for case in ERROR_CASES]
    assert len(names) == len(set(names))


# What each case's error says: part of what a caller shows, so a changed text is noticed.
PROBLEMS = {
    "user_id_low": "must be in [65536, 18446744073709551615]",
    "user_id_bool": "must be an int",
    "user_id_str": "must be an int",
    "account_id_zero": "must be in [1, 18446744073709551615]",
    "account_id_wide": "must be in [1, 18446744073709551615]",
    "user_from_hex": "must be 16 lower-case hex digits",
    "account_from_hex": "must be 16 lower-case hex digits",
    "user_ulid_short": "must be 26 Crockford base32 chars",
    "user_ulid_char": "bad Crockford base32 char 'I'",
    "user_ulid_overflow": "overflows 128 bits",
    "user_ulid_low_bits": "ULID low 64 bits must be zero",
    "user_ulid_zero": "id must be >= 0x10000",
    "user_ulid_reserved": "id must be >= 0x10000",
    "account_ulid_zero": "id must be >= 0x1",
    "product_even": "must be odd (even ids are basis twins)",
    "product_low": "must be in [1001, 4294967293]",
    "contract_date": "is not a calendar date",
    "contract_date_year": "must be 0 or YYYYMMDD, year 1000..9999",
    "contract_even_product": "product_id: must be odd (even ids are basis twins)",
    "contract_date_type": "must be an int",
    "contract_tag": "bit 63 (scheme tag) is reserved, must be 0",
    "contract_usd_dated": "the USD asset has no contract date",
    "contract_negative": "must be in [0, 18446744073709551615]",
    "contract_new_product": "must be a ProductId",
    "contract_new_date": "must be a ContractDate",
    "contract_perp_product": "must be a ProductId",
    "usd_product": "the USD asset is not a product",
    "account_name": "must be 1..64 chars without outer spaces",
    "account_name_type": "must be a str",
    "account_created": "must be in [0, 9223372036854775807]",
    "account_no_ubo": "a customer account needs a UBO",
    "system_with_ubo": "a system account has no UBO",
    "customer_reserved": "reserved for system accounts",
    "account_id_type": "must be an AccountId",
    "account_frozen_type": "must be a bool",
    "account_close_only_type": "must be a bool",
    "fee_high": "must be in [-10000, 10000]",
    "fee_low": "must be in [-10000, 10000]",
    "limit_negative": "must be in [0, 9223372036854775807]",
    "limit_wide": "must be in [0, 9223372036854775807]",
    "permission_type": "must be a bool",
    "permission_flag": "unknown permission flag",
    "action": f"must be one of {[a.value for a in Action]}",
    "action_type": f"must be one of {[a.value for a in Action]}",
    "order_id": "must be in [1, 18446744073709551615]",
    "order_qty": "must be in [1, 9223372036854775807]",
    "order_price": "must be in [1, 9223372036854775807]",
    "order_client_id": "must be 1..64 chars without outer spaces",
    "api_key_id": "must be in [1, 18446744073709551615]",
    "mint_no_grant": "user holds no grant on account",
    "mint_other_grant": "user holds no grant on account",
    "mint_wider": "wider than the grant by ['can_manage', 'can_set_limits', 'can_transfer']",
    "mint_empty": "a key must allow something",
    "mint_secret": "needs >= 32",
    "mint_pepper": "needs >= 32",
    "token_type": "must be a str",
    "token_shape": "malformed token",
    "ledger_account_id": "must be in [1, 340282366920938463463374607431768211455]",
    "ledger_account_ledger": "must be in [1, 4294967295]",
    "ledger_account_code": "must be in [1, 65535]",
    "ledger_account_udata": "must be in [0, 4294967295]",
    "transfer_amount": "must be in [0, 340282366920938463463374607431768211455]",
    "transfer_debit": "must be in [1, 340282366920938463463374607431768211455]",
    "transfer_u64": "must be in [0, 18446744073709551615]",
    "pack_price": "must be in [0, 18446744073709551615]",
    "pack_qty": "must be in [0, 18446744073709551615]",
    "unpack": "must be in [0, 340282366920938463463374607431768211455]",
    "ref_account": "must be an AccountId",
    "ref_contract": "must be a ContractId",
    "ref_usd_basis": "the USD asset has no basis",
    "ref_basis_type": "must be a bool",
    "decode_zero": "must be in [1, 340282366920938463463374607431768211455]",
    "decode_tag": "contract_id: bit 63 (scheme tag) is reserved",
    "decode_wide": "must be in [1, 340282366920938463463374607431768211455]",
    "derive_account": "must be an AccountId",
    "derive_contract": "must be a ContractId",
    "derive_usd_basis": "the USD asset has no basis account",
    "participant_account": "must be an AccountId",
    "participant_prefix": "must match [a-z][a-z0-9-]{0,31}",
    "participant_firm": "must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}",
    "participant_parse": "must be 26 Crockford base32 chars",
    "participant_zero": "the all-zero id is no account",
    "position_qty": "must be an int",
    "position_basis": "must be an int",
    "product_row_id": "must be a ProductId",
    "product_row_time": "must be in [0, 9223372036854775807]",
    "instrument_usd": "the USD asset is not tradable",
    "instrument_perp_expiry": "a perpetual never expires",
    "product_seq_even": "must be odd in [1001, 4294967295]",
    "product_seq_exhausted": "no product id left to issue",
}


@pytest.mark.parametrize(
    ("call", "case"), [(c[1], c[0]) for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_every_domain_error_explains_the_problem(call: Callable[[], object], case: str) -> None:
    with pytest.raises(DomainError) as error:
        call()
    assert error.value.problem == PROBLEMS[case]


def test_every_error_case_has_its_problem_text() -> None:
    assert set(PROBLEMS) == {case[0] for case in ERROR_CASES}


def test_ulid_codec_defaults_to_the_ulid_field() -> None:
    from axdomain.ulid import ulid_from_text, ulid_to_text

    with pytest.raises(InvalidValue) as error:
        ulid_to_text(-1)
    assert (error.value.field, error.value.value) == ("ulid", -1)
    with pytest.raises(InvalidValue) as error:
        ulid_from_text("x")
    assert (error.value.field, error.value.value) == ("ulid", "x")
    with pytest.raises(InvalidValue) as error:
        ulid_to_text(1 << 128, "custom")
    assert error.value.field == "custom"
    assert ulid_to_text((1 << 128) - 1) == "7" + "Z" * 25
    assert ulid_from_text("7" + "Z" * 25) == (1 << 128) - 1  # the largest value still parses


def test_text_length_bound_is_inclusive() -> None:
    assert _account(name="n" * 64).name == "n" * 64
    with pytest.raises(InvalidValue) as error:
        _account(name="n" * 65)
    assert (error.value.field, error.value.value) == ("name", "n" * 65)
