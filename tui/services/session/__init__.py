"""The process's use cases over the store and the exchanges."""
