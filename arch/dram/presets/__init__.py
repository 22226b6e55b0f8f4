"""DRAM/HBM preset files (YAML); loaded by :func:`arch.dram.load_preset`."""
