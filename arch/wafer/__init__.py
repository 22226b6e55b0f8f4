"""Wafer-scale meshes (Cerebras WSE-2/3) running WaferLLM's MeshGEMM and MeshGEMV: ``kind: wafer``."""
