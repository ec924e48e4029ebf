"""Writes the torchvision backbone fixtures committed in src/test/resources/fixtures.

TorchWeights.loadBackbone is tested on real torchvision state_dicts: resnet18 (45 MB), resnet50
(98 MB) and a small VisionTransformer. Too big to commit, so for each one this script commits
  - torchvision_<name>.manifest.json: the state_dict as torchvision makes it (every key, dtype
    and shape, in state_dict order), the seed of its values, and the SHA-256 and size of the
    safetensors file this script writes from it;
  - torchvision_<name>.io.safetensors: an input and torchvision's own outputs for it, in eval mode:
    resnets: "layer4" = layer4(layer3(layer2(layer1(maxpool(relu(bn1(conv1(input)))))))), the
    activation a feedback ResNet's class channels reproduce at T = 1 after loadBackbone, and
    "layer4.float64", the same computed in float64 (from the same float32 weights and input);
    the ViT: "tokens" = conv_proj(input) as tokens plus encoder.pos_embedding without the class
    token's row, and "encoder_output" = encoder.ln(encoder.layers(tokens)), the encoder on the
    patch tokens without the class token (the feedback ViT has none).
The values are torchvision's state_dict with every floating tensor replaced by its seeded value
(make_fixtures.seeded_weight, mirrored by src/test/java/dfbmodels/SeededWeights.java); integer
entries (num_batches_tracked) are kept as torchvision makes them. The Java test
(dfbmodels.TorchvisionStateDicts) rebuilds the file from the manifest and checks its SHA-256, so
it loads byte for byte the file written here.

Needs Debian's python3-torch and python3-torchvision; run from the repository root:
    /usr/bin/python3 tools/make_backbone_fixtures.py              # (re)writes the fixtures
    /usr/bin/python3 tools/make_backbone_fixtures.py --check      # regenerates elsewhere, compares
    /usr/bin/python3 tools/make_backbone_fixtures.py --keep DIR   # also keeps the state_dicts in DIR
"""
import copy, hashlib, json, os, shutil, sys, tempfile
import torch
from torchvision.models import resnet18, resnet50
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import DEFAULT_OUT, seeded_weight, write_safetensors  # noqa: E402

BACKBONES = {
    "resnet18": dict(make=resnet18, weight_seed=118, input=(1, 3, 64, 64)),
    "resnet50": dict(make=resnet50, weight_seed=150, input=(1, 3, 64, 64)),
    "vit_32_p4_l2_d64": dict(
        make=lambda: VisionTransformer(image_size=32, patch_size=4, num_layers=2, num_heads=4,
                                       hidden_dim=64, mlp_dim=128, num_classes=10),
        weight_seed=164, input=(1, 3, 32, 32), image=32, patch=4, layers=2, hidden=64, heads=4,
        mlp=128, classes=10),
}
FILE_METADATA = {"format": "pt"}  # what safetensors.torch.save_file writes


def layer4(m, x):
    y = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    return m.layer4(m.layer3(m.layer2(m.layer1(y))))


def outputs(name, m, x):
    with torch.no_grad():
        if name.startswith("resnet"):
            # the seeded weights grow layer4 to ~1e3, where torch's own float32 result is 8e-4
            # (resnet50) from its float64 one: the float64 output tests the model without that noise
            m64 = copy.deepcopy(m).double()
            return {"layer4": layer4(m, x), "layer4.float64": layer4(m64, x.double())}
        tokens = m.conv_proj(x).flatten(2).transpose(1, 2) + m.encoder.pos_embedding[:, 1:]
        return {"tokens": tokens, "encoder_output": m.encoder.ln(m.encoder.layers(tokens))}


def make(name, out, keep):
    spec = BACKBONES[name]
    torch.manual_seed(0)  # torchvision's initialisation draws, replaced by the seeded values
    m = spec["make"]().eval()
    md = {"weight_seed": spec["weight_seed"]}
    sd = {k: (seeded_weight(k, tuple(v.shape), md) if v.is_floating_point() else v.clone())
          for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, name + ".safetensors")
        write_safetensors(path, sd, FILE_METADATA)
        data = open(path, "rb").read()
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(path, os.path.join(keep, name + ".safetensors"))
    finally:
        shutil.rmtree(tmp)
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    manifest = {
        "torchvision": __import__("torchvision").__version__,
        "model": name,
        "weight_seed": spec["weight_seed"],
        "metadata": FILE_METADATA,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "tensors": [[k, dtypes[v.dtype], list(v.shape)] for k, v in sd.items()],
    }
    with open(os.path.join(out, f"torchvision_{name}.manifest.json"), "w") as f:
        head = json.dumps({k: v for k, v in manifest.items() if k != "tensors"}, indent=1)
        rows = ",\n  ".join(json.dumps(t) for t in manifest["tensors"])
        f.write(head[:-2] + ',\n "tensors": [\n  ' + rows + "\n ]\n}\n")
    g = torch.Generator().manual_seed(spec["weight_seed"])
    x = torch.rand(*spec["input"], generator=g)
    io = {"input": x, **outputs(name, m, x)}
    meta = {k: v for k, v in spec.items() if k not in ("make", "input")}
    meta.update(model=name, torch=torch.__version__, mode="eval")
    write_safetensors(os.path.join(out, f"torchvision_{name}.io.safetensors"), io, meta)
    print(f"{name}: state_dict {len(data)} bytes, {len(sd)} tensors, sha256 {manifest['sha256']}")


def files():
    return [f"torchvision_{n}.{kind}" for n in BACKBONES for kind in ("manifest.json", "io.safetensors")]


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        keep = args[args.index("--keep") + 1]
        del args[args.index("--keep"):args.index("--keep") + 2]
    if args and args[0] == "--check":
        committed = args[1] if len(args) > 1 else DEFAULT_OUT
        tmp = tempfile.mkdtemp()
        try:
            for n in BACKBONES:
                make(n, tmp, keep)
            bad = [f for f in files() if not os.path.exists(os.path.join(committed, f))
                   or open(os.path.join(tmp, f), "rb").read() != open(os.path.join(committed, f), "rb").read()]
        finally:
            shutil.rmtree(tmp)
        for f in files():
            print(("DIFFERENT " if f in bad else "identical ") + os.path.join(committed, f))
        sys.exit(1 if bad else 0)
    out = args[0] if args else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    for n in BACKBONES:
        make(n, out, keep)
