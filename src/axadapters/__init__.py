"""Adapters: implementations of the axdomain ports, one sub-package per technology."""
