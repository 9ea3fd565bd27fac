"""Child process of the rotation crash test: rotates, then blocks inside a batch.

Usage: ``python -m tests.contract.rotation_child DB_URL BLOCK_AT_SEAL BATCH_SIZE`` with
``AX_CREDENTIAL_KEYS`` set. Prints ``BATCH`` after each committed batch and ``BLOCKED``
when the seal numbered BLOCK_AT_SEAL starts, then waits to be killed (inside the open
transaction of the batch in progress).
"""

from __future__ import annotations

import os
import sys
import threading

from axadapters.sql.engine import create_sql_engine
from axadapters.vault.keyring import CredentialKeyring, SealedSecret
from axadapters.vault.sql import SqlCredentialVault
from axdomain.venues import CredentialKey


def main() -> None:
    url, block_at, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    keyring = CredentialKeyring.parse(os.environ["AX_CREDENTIAL_KEYS"])
    original_seal = keyring.seal
    seals = 0

    def seal(key: CredentialKey, plaintext: bytes) -> SealedSecret:
        nonlocal seals
        seals += 1
        if seals == block_at:
            print("BLOCKED", flush=True)
            threading.Event().wait()  # until SIGKILL
        return original_seal(key, plaintext)

    keyring.seal = seal  # type: ignore[method-assign]
    vault = SqlCredentialVault(create_sql_engine(url), keyring)
    while vault.rotate_batch(batch) > 0:
        print("BATCH", flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
