"""From trained PyTorch checkpoints to the model bundle the runtime loads (ONNX, TensorRT)."""
