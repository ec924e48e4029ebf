"""Writes the small parity fixtures committed in src/test/resources/fixtures.

The computation is SPEC.md sections 1-3, the same program as ../shared/tools/spec_reference.py
(which reproduces the large fixture set of the PyTorch original), made deterministic from seeds:
  - the state op alone (random input, non-uniform S, non-orthogonal Q; outputs at t = 0, 1, 3 and
    torch.linalg.qr of Q);
  - feedback ResNets whose weights are not stored but generated from a seed by a rule that
    dfbmodels.SeededWeights (src/test/java) implements too (see seeded_weights below); a fixture
    holds the input and the expected outputs, its __metadata__ says what to build.

Needs Debian's python3-torch and python3-torchvision (apt-get install python3-torch
python3-torchvision); run with /usr/bin/python3 from the repository root:
    /usr/bin/python3 tools/make_fixtures.py            # (re)writes src/test/resources/fixtures
    /usr/bin/python3 tools/make_fixtures.py OUT_DIR    # writes them elsewhere
    /usr/bin/python3 tools/make_fixtures.py --check    # regenerates into a temporary folder and
                                                       # compares byte for byte with the committed
Everything runs on one CPU thread with oneDNN off, so a run is deterministic; with the same torch
build (Debian's 1.13) the files come out byte for byte identical.
"""
import json, math, os, shutil, struct, sys, tempfile, zlib
import numpy as np, torch, torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "fixtures")


# ---- safetensors, written by hand (no safetensors package on Debian) -------------------------

ST_DTYPE = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        a = np.ascontiguousarray(v.detach().numpy() if torch.is_tensor(v) else v)
        a = a.reshape(tuple(v.shape))  # ascontiguousarray makes a 0-d tensor (1,)
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": ST_DTYPE[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- weights from a seed (mirrored by dfbmodels.SeededWeights) ----------------------------------

M64 = (1 << 64) - 1


def uniform(seed, name, n):
    """n values in [-1, 1), exact in float32: splitmix64 of a counter keyed by seed and crc32(name)."""
    base = ((seed << 32) ^ zlib.crc32(name.encode("utf-8"))) & M64
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = np.uint64(base) + i * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    m = (x >> np.uint64(40)).astype(np.int64) - (1 << 23)
    return m.astype(np.float32) / np.float32(1 << 23)


def seeded_weight(name, shape, md):
    """The value of parameter `name` (PyTorch key) of a model with seeded weights: a + b * v."""
    n = int(np.prod(shape)) if len(shape) else 1
    f32 = np.float32
    last = name.rsplit(".", 1)[-1]
    if name.startswith("layernorm_"):  # the loop's GroupNorms are frozen at weight 1, bias 0
        a, b = f32(1 if last == "weight" else 0), f32(0)
    elif name == "error_head.tau":
        a, b = f32(md["tau"]), f32(0)
    elif name == "error_head.alpha":
        a, b = f32(md["alpha"]), f32(0)
    elif name == "error_head.S":
        a, b = f32(1), f32(0.5 if md["S"] == "seeded" else 0)
    elif name == "error_head.Q":  # rows of norm ~1, not orthogonal
        a, b = f32(0), f32(math.sqrt(3.0 / shape[0]))
    elif last in ("class_token", "pos_embedding"):  # torchvision ViT: small, like its init
        a, b = f32(0), f32(0.05)
    elif last == "in_proj_bias":  # torch.nn.MultiheadAttention's packed [q; k; v] bias
        a, b = f32(0), f32(0.1)
    elif last == "in_proj_weight":  # and its packed weight: He-uniform like any other weight
        a, b = f32(0), f32(math.sqrt(6.0 / int(np.prod(shape[1:]))))
    elif last == "running_mean":
        a, b = f32(0), f32(0.1)
    elif last == "running_var":
        a, b = f32(1), f32(0.5)
    elif last == "bias":
        a, b = f32(0), f32(0.1)
    elif last == "weight" and len(shape) == 1:  # BatchNorm
        a, b = f32(1), f32(0.2)
    elif last == "weight":  # convolution or linear: He-uniform, fan_in = prod(shape[1:])
        a, b = f32(0), f32(math.sqrt(6.0 / int(np.prod(shape[1:]))))
    else:
        raise ValueError("no rule for " + name)
    v = uniform(int(md["weight_seed"]), name, n)
    return torch.from_numpy((a + b * v).astype(np.float32).reshape(shape))


# ---- SPEC sections 1-3 (as ../shared/tools/spec_reference.py, any block, layers, in_channels) --

def state_op(x, t, Q, S, tau, alpha):
    d = torch.exp(t * (-(1.0 / tau) * S.abs() ** alpha))
    z = torch.einsum("bchw,jc->bjhw", x, Q)        # x^T Q^T per pixel: z_j = sum_c x_c Q_jc
    z = z * d.view(1, -1, 1, 1)
    return torch.einsum("bjhw,jc->bchw", z, Q)     # z Q: out_c = sum_j z_j Q_jc


class SpecResNet(torch.nn.Module):
    def __init__(self, block, layers, fb, classes, in_channels, groups=8):
        super().__init__()
        e = block.expansion
        base = ResNet(block, layers, num_classes=classes)
        self.conv1 = torch.nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1, self.maxpool = base.bn1, base.maxpool
        base.inplanes = 64 + fb * e
        self.layer1 = base._make_layer(block, 64, layers[0])
        self.layer2 = base._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = base._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = base._make_layer(block, 512 + fb, layers[3], stride=2)
        self.fc = torch.nn.Linear(512 * e, classes)
        self.e, self.fb, self.groups = e, fb, groups

    def forward(self, x, T, Q, S, tau, alpha, train):
        e, fb = self.e, self.fb
        x0 = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        h = None
        states = []
        for t in range(T):
            if t == 0 and train:
                Q = torch.linalg.qr(Q, mode="complete")[0]
            if h is None:
                fbk = torch.zeros(x.shape[0], fb * e, *x0.shape[2:], dtype=x.dtype)
            else:
                fbk = F.interpolate(h[:, 512 * e:(512 + fb) * e], size=x0.shape[2:], mode="bilinear", align_corners=False)
            f = torch.softmax(F.group_norm(fbk, self.groups, eps=1e-5), dim=1)
            y = self.layer4(self.layer3(self.layer2(self.layer1(torch.cat([x0, f], 1)))))
            upd = state_op(F.group_norm(y, self.groups, eps=1e-5), float(t), Q, S, tau, alpha)
            h = upd if h is None else h + upd
            states.append(h)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h[:, :512 * e], 1), 1)), states


ARCH = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet34": (BasicBlock, [3, 4, 6, 3]),
        "resnet50": (Bottleneck, [3, 4, 6, 3])}


def build(md):
    if md["arch"] == "feedback_resnet":
        block = {"basic": BasicBlock, "bottleneck": Bottleneck}[md["block"]]
        layers = [int(n) for n in md["layers"].split(",")]
    else:
        block, layers = ARCH[md["arch"]]
    m = SpecResNet(block, layers, int(md["fb_filters"]), int(md["n_classes"]), int(md["in_channels"]))
    e, fb = block.expansion, int(md["fb_filters"])
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items() if v.is_floating_point()}
    c = (512 + fb) * e
    shapes.update({"error_head.Q": (c, c), "error_head.S": (c,), "error_head.tau": (1,),
                   "error_head.alpha": (1,), "layernorm_error.weight": (c,), "layernorm_error.bias": (c,),
                   "layernorm_input.weight": (fb * e,), "layernorm_input.bias": (fb * e,)})
    w = {k: seeded_weight(k, s, md) for k, s in shapes.items()}
    missing, unexpected = m.load_state_dict({k: v for k, v in w.items() if k in m.state_dict()}, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    return m, w


# ---- the fixtures ------------------------------------------------------------------------------

def state_exp_decay(path, seed=24):
    g = torch.Generator().manual_seed(seed)
    c, tau, alpha = 24, 0.5, 1.5
    x = torch.randn(2, c, 5, 6, generator=g)
    S = 0.25 + 1.5 * torch.rand(c, generator=g)          # non-uniform decay
    Q = torch.randn(c, c, generator=g) / math.sqrt(c)     # not orthogonal
    out = {"input": x, "S": S, "Q": Q}
    for t in (0, 1, 3):
        out[f"output.t{t}"] = state_op(x, float(t), Q, S, tau, alpha)
    qq, rr = torch.linalg.qr(Q, mode="complete")
    out["qr.Q"], out["qr.R"] = qq, rr
    write_safetensors(path, out, {"filters": c, "tau": tau, "alpha": alpha, "steps": "0,1,3",
                                  "seed": seed, "torch": torch.__version__})


def resnet(path, md, batch, train_grads=(), train_running=()):
    m, w = build(md)
    train = md["mode"] == "train"
    m.train(train)
    dtype = torch.float64 if md["dtype"] == "float64" else torch.float32
    g = torch.Generator().manual_seed(int(md["data_seed"]))
    x = torch.randn(batch, int(md["in_channels"]), int(md["height"]), int(md["width"]), generator=g, dtype=dtype)
    Q, S = w["error_head.Q"].to(dtype), w["error_head.S"].to(dtype)
    m.to(dtype)
    out = {"input": x}
    if train:
        target = torch.randint(0, int(md["n_classes"]), (batch,), generator=g)
        out["target"] = target
    y, states = m(x, int(md["iterations"]), Q, S, float(md["tau"]), float(md["alpha"]), train)
    out["logits"] = y.detach()
    for i, s in enumerate(states, 1):
        out[f"state.{i}"] = s.detach()
    if train:
        loss = F.cross_entropy(y, target)
        loss.backward()
        out["loss"] = loss.detach().reshape(1)
        params = dict(m.named_parameters())
        for k in train_grads:
            out["grad." + k] = params[k].grad
        modules = dict(m.named_modules())
        for k in train_running:
            out["running_mean." + k] = modules[k].running_mean
            out["running_var." + k] = modules[k].running_var
    meta = dict(md, torch=torch.__version__, initial_state="zeros", atol="0.0")
    write_safetensors(path, out, meta)


FIXTURES = {
    "seeded_state_exp_decay_f24.io.safetensors": lambda p: state_exp_decay(p),
    # ResNet18 at 64x48: the state is 2x2, so the feedback is not uniform (unlike 32x32); S is
    # non-uniform and Q not orthogonal, so eval runs the general state op
    "seeded_resnet18_fb8_64x48.eval.io.safetensors": lambda p: resnet(p, dict(
        arch="resnet18", fb_filters=8, n_classes=10, in_channels=3, height=64, width=48,
        iterations=3, mode="eval", dtype="float32", weights="seeded", weight_seed=18, S="seeded",
        tau=2.0, alpha=1.5, data_seed=1), batch=2),
    # training in float64 (SPEC section 5): loss, gradients, running statistics after T = 3
    "seeded_resnet18_fb8_48x40.train.io.safetensors": lambda p: resnet(p, dict(
        arch="resnet18", fb_filters=8, n_classes=10, in_channels=3, height=48, width=40,
        iterations=3, mode="train", dtype="float64", weights="seeded", weight_seed=19, S="ones",
        tau=1.0, alpha=1.0, data_seed=2), batch=2,
        train_grads=("conv1.weight", "layer1.0.bn1.weight", "layer2.0.downsample.0.weight",
                     "layer4.1.bn2.weight", "fc.weight", "fc.bias"),
        train_running=("bn1", "layer1.0.bn1", "layer2.0.downsample.1", "layer4.1.bn2")),
    # bottleneck blocks (ResNet50's), one per layer, one input channel (MNIST-like), fb = 2
    "seeded_bottleneck1111_fb2_48x64.eval.io.safetensors": lambda p: resnet(p, dict(
        arch="feedback_resnet", block="bottleneck", layers="1,1,1,1", fb_filters=2, n_classes=5,
        in_channels=1, height=48, width=64, iterations=3, mode="eval", dtype="float32",
        weights="seeded", weight_seed=50, S="ones", tau=1.0, alpha=1.0, data_seed=3), batch=1),
}


def write_all(out):
    os.makedirs(out, exist_ok=True)
    total = 0
    for name, make in FIXTURES.items():
        torch.manual_seed(0)  # torchvision's initialisation draws, overwritten by the seeded weights
        make(os.path.join(out, name))
        size = os.path.getsize(os.path.join(out, name))
        total += size
        print(f"{name} {size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    args = sys.argv[1:]
    if args and args[0] == "--check":
        committed = args[1] if len(args) > 1 else DEFAULT_OUT
        tmp = tempfile.mkdtemp()
        try:
            write_all(tmp)
            bad = [n for n in FIXTURES if not os.path.exists(os.path.join(committed, n))
                   or open(os.path.join(tmp, n), "rb").read() != open(os.path.join(committed, n), "rb").read()]
        finally:
            shutil.rmtree(tmp)
        for n in FIXTURES:
            print(("DIFFERENT " if n in bad else "identical ") + os.path.join(committed, n))
        sys.exit(1 if bad else 0)
    write_all(args[0] if args else DEFAULT_OUT)
