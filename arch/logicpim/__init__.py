"""Logic-PIM family: Duplex (an xPU plus processing units on the HBM logic dies)."""
