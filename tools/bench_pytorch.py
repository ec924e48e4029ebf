"""PyTorch eager side of the side-by-side benchmark (docs/performance.md, "Java vs PyTorch").

The same models and shapes as the Java `Benchmark` (SPEC §1-4: the feedback ResNets of
../shared/tools/spec_reference.py and the feedback DeepLabV3+ of SPEC §4), in the original's
semantics: zero initial state, no early stop (atol 0), QR of Q at the first step of every training
forward. One measurement per process; prints one line `RESULT key=value ...`.

usage: /usr/bin/python3 tools/bench_pytorch.py MODEL SIZE BATCH T MODE [WARMUP REPEATS THREADS]
  MODEL resnet18|resnet34|resnet50|deeplabv3plus, MODE infer|train|backbone-infer|backbone-train|predict
  predict: what the Java PredictorBenchmark times, the eager way: uint8 RGB images (H, W, 3) to a
  float tensor in [0, 1], forward, softmax, best class; one call per BATCH images; prints the
  latency percentiles p50 and p99 of the calls (nearest rank) and images/s over all of them.
Needs Debian's python3-torch (1.13) and python3-torchvision (0.14).
"""
import math
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet


def state_op(x, t, q, s, tau=1.0, alpha=1.0):
    """SPEC §1: out = Qᵀ·diag(d)·Q·x per pixel, as two GEMMs over all pixels."""
    b, c, h, w = x.shape
    d = torch.exp(t * (-(1.0 / tau) * s.abs() ** alpha))
    cols = x.reshape(b, c, h * w).transpose(0, 1).reshape(c, -1)
    z = (q @ cols) * d.view(c, 1)
    return (q.t() @ z).reshape(c, b, h * w).transpose(0, 1).reshape(b, c, h, w)


class FeedbackLoop(nn.Module):
    """SPEC §2 around a frontend, a body and a readout."""

    def __init__(self, frontend, body, readout, class_ch, fb_ch, err_groups, fb_groups):
        super().__init__()
        self.frontend, self.body, self.readout = frontend, body, readout
        self.class_ch, self.fb_ch = class_ch, fb_ch
        self.err_groups, self.fb_groups = err_groups, fb_groups
        c = class_ch + fb_ch
        self.Q = nn.Parameter(torch.linalg.qr(torch.randn(c, c))[0])
        self.register_buffer("S", torch.ones(c))

    def forward(self, x, steps):
        x0 = self.frontend(x)
        h = None
        for t in range(steps):
            if t == 0 and self.training:
                with torch.no_grad():
                    self.Q.copy_(torch.linalg.qr(self.Q, mode="complete")[0])
            if h is None:
                fb = x0.new_zeros(x0.shape[0], self.fb_ch, *x0.shape[2:])
            else:
                fb = h[:, self.class_ch:]
                if fb.shape[2:] != x0.shape[2:]:
                    fb = F.interpolate(fb, size=x0.shape[2:], mode="bilinear", align_corners=False)
            f = torch.softmax(F.group_norm(fb, self.fb_groups, eps=1e-5), dim=1)
            y = self.body(torch.cat([x0, f], 1))
            upd = state_op(F.group_norm(y, self.err_groups, eps=1e-5), float(t), self.Q, self.S)
            h = upd if h is None else h + upd
        return self.readout(h[:, : self.class_ch])

    def backbone(self, x):
        """The same network without the loop: one body pass on a constant feedback."""
        x0 = self.frontend(x)
        f = x0.new_full((x0.shape[0], self.fb_ch, *x0.shape[2:]), 1.0 / self.fb_ch)
        return self.readout(self.body(torch.cat([x0, f], 1))[:, : self.class_ch])


def resnet(block, layers, fb, classes):
    e = block.expansion
    base = ResNet(block, layers, num_classes=classes)
    frontend = nn.Sequential(base.conv1, base.bn1, base.relu, base.maxpool)
    base.inplanes = 64 + fb * e
    body = nn.Sequential(
        base._make_layer(block, 64, layers[0]),
        base._make_layer(block, 128, layers[1], stride=2),
        base._make_layer(block, 256, layers[2], stride=2),
        base._make_layer(block, 512 + fb, layers[3], stride=2),
    )
    readout = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512 * e, classes))
    return FeedbackLoop(frontend, body, readout, 512 * e, fb * e, 8, 8)


def conv_bn_relu(conv, c):
    return nn.Sequential(conv, nn.BatchNorm2d(c), nn.ReLU(inplace=True))


def separable(cin, cout, dilation):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, padding=dilation, dilation=dilation, groups=cin, bias=False),
        nn.Conv2d(cin, cout, 1, bias=False),
    )


class Aspp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.convs = nn.ModuleList(
            [conv_bn_relu(nn.Conv2d(cin, cout, 1, bias=False), cout)]
            + [conv_bn_relu(separable(cin, cout, r), cout) for r in (12, 24, 36)]
        )
        self.pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True))
        self.project = nn.Sequential(
            nn.Conv2d(5 * cout, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Dropout(0.5))

    def forward(self, x):
        p = F.interpolate(self.pool(x), size=x.shape[2:], mode="bilinear", align_corners=False)
        return self.project(torch.cat([c(x) for c in self.convs] + [p], 1))


class DeepLabBody(nn.Module):
    """SPEC §4: max-pool, dilated ResNet encoder (output stride 16), DeepLabV3+ decoder."""

    def __init__(self, fb, out, block=BasicBlock, layers=(2, 2, 2, 2)):
        super().__init__()
        e = block.expansion
        base = ResNet(block, list(layers))
        base.inplanes = 64 + fb
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = base._make_layer(block, 64, layers[0])
        self.layer2 = base._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = base._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = base._make_layer(block, 512, layers[3], stride=1)
        for m in self.layer4.modules():  # output stride 16: dilation 2 instead of stride 2
            if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
                m.dilation, m.padding = (2, 2), (2, 2)
        self.aspp = nn.Sequential(
            Aspp(512 * e, out), separable(out, out, 1), nn.BatchNorm2d(out), nn.ReLU(inplace=True))
        self.block1 = conv_bn_relu(nn.Conv2d(64 * e, 48, 1, bias=False), 48)
        self.block2 = conv_bn_relu(separable(out + 48, out, 1), out)

    def forward(self, x):
        l1 = self.layer1(self.pool(x))
        l4 = self.layer4(self.layer3(self.layer2(l1)))
        low = self.aspp(l4)
        up = F.interpolate(low, scale_factor=4, mode="bilinear", align_corners=True)
        return self.block2(torch.cat([up, self.block1(l1)], 1))


def deeplab(fb, classes, class_filters=256):
    frontend = nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
    out = class_filters + fb
    readout = nn.Sequential(
        nn.Conv2d(class_filters, classes, 1),
        nn.UpsamplingBilinear2d(scale_factor=4))
    return FeedbackLoop(frontend, DeepLabBody(fb, out), readout, class_filters, fb, out, fb)


def build(model, classes=10):
    if model == "resnet18":
        return resnet(BasicBlock, [2, 2, 2, 2], 8, classes)
    if model == "resnet34":
        return resnet(BasicBlock, [3, 4, 6, 3], 8, classes)
    if model == "resnet50":
        return resnet(Bottleneck, [3, 4, 6, 3], 8, classes)
    if model == "deeplabv3plus":
        return deeplab(2, classes)
    raise SystemExit("unknown model " + model)


def main():
    model_name, size, batch, steps, mode = sys.argv[1:6]
    size, batch, steps = int(size), int(batch), int(steps)
    warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    repeats = int(sys.argv[7]) if len(sys.argv) > 7 else 7
    threads = int(sys.argv[8]) if len(sys.argv) > 8 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    classes = 10
    net = build(model_name, classes)
    seg = model_name == "deeplabv3plus"
    x = torch.randn(batch, 3, size, size)
    y = (torch.randint(0, classes, (batch, size, size)) if seg
         else torch.randint(0, classes, (batch,)))
    backbone = mode.startswith("backbone")
    run = (lambda: net.backbone(x)) if backbone else (lambda: net(x, steps))
    if mode == "predict":
        net.eval()
        gen = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8, generator=gen)
        images = [img.numpy() for img in images]

        def once():
            with torch.no_grad():
                t = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(255)
                torch.softmax(net(t, steps), dim=1).argmax(dim=1).tolist()
    elif mode.endswith("train"):
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def once():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(run(), y)
            loss.backward()
            opt.step()
            loss.item()
    else:
        net.eval()

        def once():
            with torch.no_grad():
                run().sum().item()
    for _ in range(warmup):
        once()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    med = times[len(times) // 2]
    if mode == "predict":
        p50 = times[math.ceil(0.50 * len(times)) - 1]
        p99 = times[math.ceil(0.99 * len(times)) - 1]
        med = p50
        print("RESULT ms=%.3f p50=%.3f p99=%.3f min=%.3f max=%.3f ips=%.2f rss=%d torch=%s" % (
            p50, p50, p99, times[0], times[-1], batch * len(times) * 1000 / sum(times),
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, torch.__version__))
        return
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print("RESULT ms=%.3f min=%.3f max=%.3f ips=%.2f rss=%d torch=%s threads=%d" % (
        med, times[0], times[-1], batch * 1000 / med, rss, torch.__version__,
        torch.get_num_threads()))


if __name__ == "__main__":
    main()
