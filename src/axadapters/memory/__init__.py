"""In-memory adapters: the fast fakes every contract suite also runs against."""
