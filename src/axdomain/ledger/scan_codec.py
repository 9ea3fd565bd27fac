"""Ledger account ids decoded to plain ints, for folds over a whole ledger scan.

A start-up scan or an invariant check reads millions of rows. Building a validated
``TbAccountRef`` (three attrs objects) per row cost more than the fold itself and left
millions of small objects for the cyclic collector to walk. Here each distinct low half of
an id (contract + qty/basis/USD) is validated once, through the reference decoder
``decode_tb_account_id``, and every later row with that half costs one dict lookup plus an
inline range check of the owner half. Callers key their maps by the plain ints this yields
and build validated types only for what they return.

The fast path inlined in the hot loops is::

    kind = known.get(tb_id & LOW64_MASK) if MIN_OWNED_ID <= tb_id <= U128_MAX else None
    if kind is None:
        kind = decoder.kind_of(tb_id)

Every id the fast path accepts is one the reference decoder accepts, and ``kind_of``
answers everything else exactly like it (``UNDECODABLE`` where it raises).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from axdomain.errors import InvalidValue
from axdomain.ledger_ids import LOW64_MASK, MIN_OWNED_ID, U128_MAX, decode_tb_account_id

KIND_USD = 0
KIND_QTY = 1
KIND_BASIS = 2
UNDECODABLE = -1

__all__ = [
    "KIND_BASIS",
    "KIND_QTY",
    "KIND_USD",
    "LOW64_MASK",
    "MIN_OWNED_ID",
    "U128_MAX",
    "UNDECODABLE",
    "HalfDecoder",
    "contract_of",
    "cyclic_gc_paused",
]


class HalfDecoder:
    """Memo of low half -> kind for one scan; grows only with distinct valid halves.

    One decoder per scan (never module-global), so its size is bounded by the scan it
    serves and a ledger full of garbage ids cannot grow a process-wide cache.
    """

    __slots__ = ("known",)

    def __init__(self) -> None:
        self.known: dict[int, int] = {}

    def kind_of(self, tb_id: int) -> int:
        """``KIND_*`` of ``tb_id``, or ``UNDECODABLE`` where ``decode_tb_account_id`` raises."""
        try:
            ref = decode_tb_account_id(tb_id)
        except InvalidValue:
            return UNDECODABLE
        kind = KIND_USD if ref.contract.is_usd else KIND_BASIS if ref.is_basis else KIND_QTY
        self.known[tb_id & LOW64_MASK] = kind
        return kind


def contract_of(tb_id: int, kind: int) -> int:
    """The ContractId value of a decoded id (a basis id's low half is the contract + 1)."""
    return (tb_id & LOW64_MASK) - (kind == KIND_BASIS)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Keep the cyclic collector out of a bulk fold; restore its previous state after.

    A fold over a scan allocates millions of ints, tuples and list cells, none of them in
    a reference cycle: every generation-0 threshold crossing would still walk them (it
    took ~30 % of the time). Reference counting frees them as before. The switch is
    process-wide; a concurrent caller can at worst re-enable it early (speed, not
    correctness). ``gc.freeze`` is not used: unfreezing would also release objects another
    part of the process froze on purpose.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
