"""API-key use cases: mint (scope within the live grant), revoke."""

from __future__ import annotations

from axapp.stores import Stores
from axdomain.api_keys import MIN_SECRET_BYTES, ApiKey, mint_api_key
from axdomain.ids import AccountId, UserId
from axdomain.permissions import Permissions
from axdomain.ports import ApiKeyRepository, Clock, GrantRepository, IdGenerator, SecretSource


class KeyService:
    def __init__(
        self,
        *,
        grants: GrantRepository,
        keys: ApiKeyRepository,
        ids: IdGenerator,
        secrets: SecretSource,
        clock: Clock,
        pepper: bytes,
    ) -> None:
        self._grants = grants
        self._keys = keys
        self._ids = ids
        self._secrets = secrets
        self._clock = clock
        self._pepper = pepper

    @classmethod
    def over(cls, stores: Stores, pepper: bytes) -> KeyService:
        return cls(
            grants=stores.grants,
            keys=stores.keys,
            ids=stores.ids,
            secrets=stores.secrets,
            clock=stores.clock,
            pepper=pepper,
        )

    def mint(
        self, user_id: UserId, account_id: AccountId, scope: Permissions
    ) -> tuple[ApiKey, str]:
        """Returns the stored key and the token; the token is never retrievable again."""
        key, token = mint_api_key(
            key_id=self._ids.new_id(),
            user_id=user_id,
            account_id=account_id,
            scope=scope,
            grant=self._grants.get_grant(user_id, account_id),
            secret=self._secrets.token_bytes(MIN_SECRET_BYTES),
            pepper=self._pepper,
            now_ns=self._clock.now_ns(),
        )
        self._keys.add_key(key)
        return key, token

    def revoke(self, key_id: int) -> bool:
        return self._keys.revoke_key(key_id, self._clock.now_ns())
