"""GPU baseline family (``kind: gpu``): NVIDIA A100 / H100 class parts."""
