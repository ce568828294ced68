"""Write the tiny ONNX network the inference tests run (not a medical model: fixed random weights).

Usage: python tools/make_test_model.py OUTPUT_DIR
Writes model.onnx (input "image" [N,1,32,32]; outputs "probability" [N,1], "heatmap" [N,1,32,32],
"embedding" [N,4]), model.json (its card) and reference.json: inputs and onnxruntime's outputs,
which Lightbox's OpenCV engine must reproduce within 1e-4. Needs numpy, onnx, onnxruntime.
"""
import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((4, 1, 3, 3)) * 0.5).astype(np.float32)
    b1 = (rng.standard_normal(4) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((1, 4, 1, 1)) * 0.5).astype(np.float32)
    b2 = np.array([-0.2], dtype=np.float32)
    nodes = [
        # kernel_shape spelled out, as torch.onnx.export writes it: OpenCV 4.6 needs it.
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[1, 1], strides=[1, 1]),
        helper.make_node("Sigmoid", ["c2"], ["heatmap"]),
        helper.make_node("GlobalMaxPool", ["heatmap"], ["gm"]),
        helper.make_node("Flatten", ["gm"], ["probability"], axis=1),
        helper.make_node("GlobalAveragePool", ["r1"], ["ga"]),
        helper.make_node("Flatten", ["ga"], ["embedding"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 32, 32])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1]),
         helper.make_tensor_value_info("heatmap", TensorProto.FLOAT, ["batch", 1, 32, 32]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 4])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="lightbox-test")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out / "model.onnx")

    batch = np.stack([
        np.fromfunction(lambda y, x, k=k: np.sin(x * 0.3 + k) * np.cos(y * 0.2 - k), (32, 32)).astype(np.float32)
        for k in range(3)
    ])[:, None, :, :]
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    probability, heatmap, embedding = session.run(["probability", "heatmap", "embedding"], {"image": batch})
    reference = {
        "input": batch.flatten().tolist(), "inputShape": list(batch.shape),
        "probability": probability.flatten().tolist(), "heatmap": heatmap.flatten().tolist(),
        "embedding": embedding.flatten().tolist(), "onnxruntime": onnxruntime.__version__,
    }
    (out / "reference.json").write_text(json.dumps(reference))
    card = {
        "name": "tiny-test-network", "version": "0.0.1",
        "intendedUse": "software tests only: fixed random weights, no medical meaning",
        "input": {"name": "image", "width": 32, "height": 32, "channels": 1},
        "outputs": {"probability": "probability", "heatmap": "heatmap", "embedding": "embedding"},
        "modalities": ["CT", "MR"],
        "preprocessing": {"CT": {"window": {"center": 40, "width": 400}}, "MR": {"window": "percentile"}},
    }
    (out / "model.json").write_text(json.dumps(card, indent=2) + "\n")


if __name__ == "__main__":
    main()
