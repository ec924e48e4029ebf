"""Writes the bilinear-resize fixture of InterpolationTest: PyTorch's own F.interpolate numbers.

usage: /usr/bin/python3 src/test/python/make_interpolate_fixture.py \
           src/test/resources/dfbmodels/nn/interpolate.safetensors
Needs Debian's python3-torch (1.13). For every case "<name>" (input shape -> output size), seeded:
  "<name>.input"            float64 input, shape (B, C, H, W)
  "<name>.weight"           float64 (B, C, h, w), the weight r of the gradient check
  for ac in (0, 1) = align_corners False / True and dt in (f64, f32):
  "<name>.ac<ac>.<dt>"      F.interpolate(input.to(dt), size=(h, w), mode="bilinear",
                            align_corners=ac, antialias=False) in dt
  "<name>.ac<ac>.grad"      d/d input of sum(F.interpolate(input, ...) * r), float64
The case list is in __metadata__ ("cases": name=BxCxHxW->hxw, comma-separated).
"""
import json, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

CASES = [
    # name, (B, C, H, W), (h, w)
    ("up2", (1, 1, 4, 4), (8, 8)),
    ("up_fraction", (2, 3, 5, 7), (12, 9)),        # x2.4, x1.29
    ("up_one_axis", (1, 2, 6, 6), (6, 9)),         # H equal, W up
    ("down2", (1, 2, 8, 8), (4, 4)),
    ("down_arange", (1, 1, 8, 8), (3, 3)),         # the case, input arange(64)
    ("down_fraction", (2, 2, 13, 11), (5, 4)),     # /2.6, /2.75
    ("down_one_axis", (1, 1, 6, 9), (6, 4)),       # H equal, W down
    ("mixed_up_down", (1, 2, 6, 10), (11, 4)),     # H up, W down
    ("mixed_down_up", (2, 1, 9, 5), (4, 12)),      # H down, W up
    ("in_1x1", (1, 3, 1, 1), (5, 3)),
    ("out_1x1", (1, 2, 7, 6), (1, 1)),
    ("out_1xN", (1, 1, 7, 6), (1, 4)),
    ("out_Nx1", (1, 1, 3, 6), (5, 1)),             # H up, W down to 1
]

torch.manual_seed(0)
tensors, names = {}, []
for name, shape, size in CASES:
    if name == "down_arange":
        x = torch.arange(64, dtype=torch.float64).reshape(shape)
    else:
        x = torch.rand(shape, dtype=torch.float64) * 10 - 5
    r = torch.rand(shape[:2] + size, dtype=torch.float64)
    tensors[name + ".input"] = x
    tensors[name + ".weight"] = r
    for ac in (False, True):
        key = f"{name}.ac{int(ac)}"
        for dt, tag in ((torch.float64, "f64"), (torch.float32, "f32")):
            y = F.interpolate(x.to(dt), size=size, mode="bilinear", align_corners=ac,
                              antialias=False)
            tensors[f"{key}.{tag}"] = y
        xg = x.clone().requires_grad_(True)
        (F.interpolate(xg, size=size, mode="bilinear", align_corners=ac) * r).sum().backward()
        tensors[key + ".grad"] = xg.grad
    names.append(f"{name}={'x'.join(map(str, shape))}->{'x'.join(map(str, size))}")

header, blobs, off = {}, [], 0
for k, v in tensors.items():
    a = v.detach().numpy()
    b = np.ascontiguousarray(a).tobytes()
    dtype = {np.dtype("float64"): "F64", np.dtype("float32"): "F32"}[a.dtype]
    header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
header["__metadata__"] = {"torch": torch.__version__, "cases": ",".join(names),
                          "made_by": "src/test/python/make_interpolate_fixture.py"}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)))
    f.write(h)
    for b in blobs:
        f.write(b)
print(sys.argv[1], len(tensors), "tensors,", off, "bytes")
