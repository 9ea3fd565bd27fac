"""The ledger model: TigerBeetle-shaped values, planners, risk fold and invariants."""
