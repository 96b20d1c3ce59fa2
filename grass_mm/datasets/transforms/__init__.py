from .load_rs_tile import LoadRSTile

__all__ = ['LoadRSTile']
