"""The journal's record format: one self-checking record per committed batch.

A record is a 20-byte header followed by the payload, all little-endian::

    magic "AXLJ" | u16 format version | u16 reserved (0) | u32 payload length
    | u32 CRC-32 of the payload | u32 CRC-32 of the 16 header bytes before it

The header has its own checksum so a flipped length can never make the reader skip
over intact records; the payload checksum catches a torn or rotted body. The payload is::

    u64 batch timestamp | u32 accounts | u32 transfers | u32 failed transfer ids
    | u32 expired pending transfer ids
    | accounts (60 bytes each) | transfers (128 bytes each) | failed ids (16 bytes each)
    | expired ids (16 bytes each)

A transfer holds id, debit and credit account ids, amount, pending_id, user_data_128,
user_data_64, user_data_32, timeout, ledger, code, flags, timestamp. Format version 1 (no
expired count, 108-byte transfers without pending_id and timeout) is still read. u128 fields
are stored as two u64 (low half first). Only what the batch committed is written, with the
timestamps the ledger assigned, so replay needs no clock.
"""

from __future__ import annotations

import struct
import zlib

from axadapters.ledger_twin.engine import BATCH_EVENTS_MAX, EXPIRIES_PER_BATCH_MAX, CommittedBatch
from axdomain.ledger.values import AccountFlags, LedgerAccount, Transfer, TransferFlags

MAGIC = b"AXLJ"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
HEADER = struct.Struct("<4sHHIII")
_HEADER_CRC_SPAN = 16
_PAYLOAD_HEAD_V1 = struct.Struct("<QIII")
_PAYLOAD_HEAD = struct.Struct("<QIIII")
_ACCOUNT = struct.Struct("<QQQQQIIHHQ")
_TRANSFER_V1 = struct.Struct("<QQQQQQQQQQQIIHHQ")
_TRANSFER = struct.Struct("<QQQQQQQQQQQQQIIIHHQ")
_ID = struct.Struct("<QQ")
_LOW64 = (1 << 64) - 1
# Bounded by the largest batch: every event could be a transfer and a burnt id at once, plus
# the expiries released before it.
PAYLOAD_BYTES_MAX = (
    _PAYLOAD_HEAD.size
    + BATCH_EVENTS_MAX * (_TRANSFER.size + _ID.size)
    + EXPIRIES_PER_BATCH_MAX * _ID.size
)

assert HEADER.size == 20
assert _ACCOUNT.size == 60
assert _TRANSFER_V1.size == 108
assert _TRANSFER.size == 128


class RecordDecodeError(ValueError):
    """A record whose checksums pass but whose payload is not a valid batch."""


def encode_record(batch: CommittedBatch) -> bytes:
    parts = [
        _PAYLOAD_HEAD.pack(
            batch.batch_timestamp,
            len(batch.accounts),
            len(batch.transfers),
            len(batch.failed_transfer_ids),
            len(batch.expired_transfer_ids),
        )
    ]
    parts.extend(_encode_account(account) for account in batch.accounts)
    parts.extend(_encode_transfer(transfer) for transfer in batch.transfers)
    parts.extend(_ID.pack(i & _LOW64, i >> 64) for i in batch.failed_transfer_ids)
    parts.extend(_ID.pack(i & _LOW64, i >> 64) for i in batch.expired_transfer_ids)
    payload = b"".join(parts)
    assert len(payload) <= PAYLOAD_BYTES_MAX, len(payload)
    head = HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(payload), zlib.crc32(payload), 0)
    header_crc = zlib.crc32(head[:_HEADER_CRC_SPAN])
    return head[:_HEADER_CRC_SPAN] + header_crc.to_bytes(4, "little") + payload


def header_is_intact(header: bytes) -> bool:
    """Magic, sane length and a matching header checksum (the version is checked apart)."""
    if len(header) != HEADER.size:
        return False
    magic, _, reserved, length, _, header_crc = HEADER.unpack(header)
    return bool(
        magic == MAGIC
        and reserved == 0
        and length <= PAYLOAD_BYTES_MAX
        and zlib.crc32(header[:_HEADER_CRC_SPAN]) == header_crc
    )


def payload_length(header: bytes) -> int:
    length: int = HEADER.unpack(header)[3]
    return length


def format_version(header: bytes) -> int:
    version: int = HEADER.unpack(header)[1]
    return version


def payload_is_intact(header: bytes, payload: bytes) -> bool:
    _, _, _, length, payload_crc, _ = HEADER.unpack(header)
    return bool(len(payload) == length and zlib.crc32(payload) == payload_crc)


def decode_payload(payload: bytes, version: int = FORMAT_VERSION) -> CommittedBatch:
    try:
        return _decode_payload(payload, version)
    except (struct.error, ValueError) as exc:
        raise RecordDecodeError(str(exc)) from exc


def _decode_payload(payload: bytes, version: int) -> CommittedBatch:
    if version == 1:
        head, transfer_size, decode_transfer = _PAYLOAD_HEAD_V1, _TRANSFER_V1.size, _decode_v1
        timestamp, n_accounts, n_transfers, n_failed = head.unpack_from(payload, 0)
        n_expired = 0
    else:
        head, transfer_size, decode_transfer = _PAYLOAD_HEAD, _TRANSFER.size, _decode_transfer
        timestamp, n_accounts, n_transfers, n_failed, n_expired = head.unpack_from(payload, 0)
    expected = (
        head.size
        + n_accounts * _ACCOUNT.size
        + n_transfers * transfer_size
        + (n_failed + n_expired) * _ID.size
    )
    if expected != len(payload):
        raise RecordDecodeError(f"payload holds {len(payload)} bytes, counts say {expected}")
    offset = head.size
    accounts = []
    for _ in range(n_accounts):
        accounts.append(_decode_account(payload, offset))
        offset += _ACCOUNT.size
    transfers = []
    for _ in range(n_transfers):
        transfers.append(decode_transfer(payload, offset))
        offset += transfer_size
    ids = []
    for _ in range(n_failed + n_expired):
        low, high = _ID.unpack_from(payload, offset)
        ids.append(high << 64 | low)
        offset += _ID.size
    assert offset == len(payload)
    return CommittedBatch(
        timestamp, tuple(accounts), tuple(transfers), tuple(ids[:n_failed]), tuple(ids[n_failed:])
    )


def _encode_account(a: LedgerAccount) -> bytes:
    return _ACCOUNT.pack(
        a.id & _LOW64,
        a.id >> 64,
        a.user_data_128 & _LOW64,
        a.user_data_128 >> 64,
        a.user_data_64,
        a.user_data_32,
        a.ledger,
        a.code,
        int(a.flags),
        a.timestamp,
    )


def _decode_account(payload: bytes, offset: int) -> LedgerAccount:
    fields = _ACCOUNT.unpack_from(payload, offset)
    id_lo, id_hi, ud_lo, ud_hi, ud64, ud32, ledger, code, flags, timestamp = fields
    return LedgerAccount(
        id=id_hi << 64 | id_lo,
        ledger=ledger,
        code=code,
        flags=AccountFlags(flags),
        user_data_128=ud_hi << 64 | ud_lo,
        user_data_64=ud64,
        user_data_32=ud32,
        timestamp=timestamp,
    )


def _encode_transfer(t: Transfer) -> bytes:
    return _TRANSFER.pack(
        t.id & _LOW64,
        t.id >> 64,
        t.debit_account_id & _LOW64,
        t.debit_account_id >> 64,
        t.credit_account_id & _LOW64,
        t.credit_account_id >> 64,
        t.amount & _LOW64,
        t.amount >> 64,
        t.pending_id & _LOW64,
        t.pending_id >> 64,
        t.user_data_128 & _LOW64,
        t.user_data_128 >> 64,
        t.user_data_64,
        t.user_data_32,
        t.timeout,
        t.ledger,
        t.code,
        int(t.flags),
        t.timestamp,
    )


def _decode_transfer(payload: bytes, offset: int) -> Transfer:
    (
        id_lo,
        id_hi,
        dr_lo,
        dr_hi,
        cr_lo,
        cr_hi,
        amount_lo,
        amount_hi,
        pending_lo,
        pending_hi,
        ud_lo,
        ud_hi,
        ud64,
        ud32,
        timeout,
        ledger,
        code,
        flags,
        timestamp,
    ) = _TRANSFER.unpack_from(payload, offset)
    return Transfer(
        id=id_hi << 64 | id_lo,
        debit_account_id=dr_hi << 64 | dr_lo,
        credit_account_id=cr_hi << 64 | cr_lo,
        amount=amount_hi << 64 | amount_lo,
        ledger=ledger,
        code=code,
        flags=TransferFlags(flags),
        user_data_128=ud_hi << 64 | ud_lo,
        user_data_64=ud64,
        user_data_32=ud32,
        timestamp=timestamp,
        pending_id=pending_hi << 64 | pending_lo,
        timeout=timeout,
    )


def _decode_v1(payload: bytes, offset: int) -> Transfer:
    (
        id_lo,
        id_hi,
        dr_lo,
        dr_hi,
        cr_lo,
        cr_hi,
        amount_lo,
        amount_hi,
        ud_lo,
        ud_hi,
        ud64,
        ud32,
        ledger,
        code,
        flags,
        timestamp,
    ) = _TRANSFER_V1.unpack_from(payload, offset)
    return Transfer(
        id=id_hi << 64 | id_lo,
        debit_account_id=dr_hi << 64 | dr_lo,
        credit_account_id=cr_hi << 64 | cr_lo,
        amount=amount_hi << 64 | amount_lo,
        ledger=ledger,
        code=code,
        flags=TransferFlags(flags),
        user_data_128=ud_hi << 64 | ud_lo,
        user_data_64=ud64,
        user_data_32=ud32,
        timestamp=timestamp,
    )
