"""int8 dynamic quantisation of the ONNX export: which MatMuls stay fp32, and a quiet quantizer.

The matrix after each GELU reads an input with outliers that one dynamic int8 scale per call
flattens; `matmuls_after_activation` finds those nodes in the graph (not by layer names) so the
exporter keeps them fp32 (the figures are beside the call in `onnx_runtime._export`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Final

__all__ = ["QuantizerNoise", "matmuls_after_activation", "quiet_quantizer"]

_ACTIVATIONS: Final = {"Gelu", "FastGelu", "BiasGelu", "Relu", "Erf", "Tanh", "Sigmoid"}
_ELEMENTWISE: Final = {"Mul", "Add", "Div"}  # how an activation is spelt out (erf GELU)


def matmuls_after_activation(path: Path) -> list[str]:
    """Names of the MatMul nodes whose input is an activation's output (the second matrix
    of each feed-forward block), found in the graph rather than by layer names."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    producer = {out: node for node in graph.node for out in node.output}

    def activation(name: str, depth: int) -> bool:
        node = producer.get(name)
        if node is None or depth > 4:
            return False
        if node.op_type in _ACTIVATIONS:
            return True
        return node.op_type in _ELEMENTWISE and any(activation(i, depth + 1) for i in node.input)

    return [n.name for n in graph.node if n.op_type == "MatMul" and activation(n.input[0], 0)]


class QuantizerNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "/onnxruntime/quantization/" not in record.pathname.replace("\\", "/")


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """The quantizer logs a line per tensor (and a pre-processing hint) through the root
    logger at INFO/WARNING; drop those records only, for the duration of the call."""
    noise = QuantizerNoise()
    root = logging.getLogger()
    root.addFilter(noise)
    try:
        yield
    finally:
        root.removeFilter(noise)
