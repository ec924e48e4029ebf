"""Java vs PyTorch eager, side by side, interleaved (docs/performance.md, "Java vs PyTorch eager, side by side").

Runs every case once per round on each side, alternating which side goes first, each measurement
in a fresh process: the Java side is `dfbmodels.examples.Benchmark --child MODE:T` (and
`PredictorBenchmark` for the Predictor rows), the PyTorch side `tools/bench_pytorch.py` (the same
models, SPEC §1-4, in the original's semantics). Each process reports the median of REPEATS timed
runs after WARMUP; the table gives, per side, the median over the rounds and the spread (min-max)
of the rounds' medians, and the ratio Java / PyTorch of the two medians.

usage (from the repository root, after `mvn -B -ntp install -DskipTests` and, in examples/,
`mvn -q compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt`):

  /usr/bin/python3 tools/side_by_side.py [--rounds 3] [--warmup 3] [--repeats 7] [--threads 2]
      [--cases all|resnet18,resnet50,deeplab,predict,backbone] [--java-env K=V ...]

Prints a Markdown table on stdout (progress on stderr).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (group, label, model, size, batch, T, fb, mode)
CASES = [
    ("resnet18", "feedback ResNet18 fb 8, 32×32, B 32, T 1", "resnet18", 32, 32, 1, 8, "infer"),
    ("resnet18", "feedback ResNet18 fb 8, 32×32, B 32, T 1", "resnet18", 32, 32, 1, 8, "train"),
    ("resnet18", "feedback ResNet18 fb 8, 32×32, B 32, T 5", "resnet18", 32, 32, 5, 8, "infer"),
    ("resnet18", "feedback ResNet18 fb 8, 32×32, B 32, T 5", "resnet18", 32, 32, 5, 8, "train"),
    ("backbone", "ResNet18 backbone (no loop), 32×32, B 32", "resnet18", 32, 32, 1, 8,
     "backbone-infer"),
    ("backbone", "ResNet18 backbone (no loop), 32×32, B 32", "resnet18", 32, 32, 1, 8,
     "backbone-train"),
    ("resnet50", "feedback ResNet50 fb 8, 64×64, B 8, T 3", "resnet50", 64, 8, 3, 8, "infer"),
    ("resnet50", "feedback ResNet50 fb 8, 64×64, B 8, T 3", "resnet50", 64, 8, 3, 8, "train"),
    ("deeplab", "feedback DeepLabV3+ fb 2, 64×64, B 2, T 3", "deeplabv3plus", 64, 2, 3, 2,
     "infer"),
    ("deeplab", "feedback DeepLabV3+ fb 2, 64×64, B 2, T 3", "deeplabv3plus", 64, 2, 3, 2,
     "train"),
    ("predict", "Predictor, ResNet18 fb 8, 32×32, T 5, batch 1", "resnet18", 32, 1, 5, 8,
     "predict"),
    ("predict", "Predictor, ResNet18 fb 8, 32×32, T 5, batch 32", "resnet18", 32, 32, 5, 8,
     "predict"),
]


def parse(line):
    return dict(kv.split("=", 1) for kv in line[len("RESULT "):].split())


def run(cmd, env):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit("failed: %s\n%s\n%s" % (" ".join(cmd), out.stdout, out.stderr))
    return parse(lines[-1])


def java_classpath():
    cp_file = os.path.join(ROOT, "examples", "target", "cp.txt")
    classes = os.path.join(ROOT, "examples", "target", "classes")
    if not os.path.exists(cp_file) or not os.path.isdir(classes):
        raise SystemExit(
            "examples/target/cp.txt or examples/target/classes is missing: run `mvn -B -ntp install"
            " -DskipTests` in the root, then in examples/ `mvn -q compile"
            " dependency:build-classpath -Dmdep.outputFile=target/cp.txt`")
    with open(cp_file) as f:
        return classes + os.pathsep + f.read().strip()


def java_cmd(case, args, cp):
    _, _, model, size, batch, t, fb, mode = case
    common = ["--model", model, "--size", str(size), "--batch", str(batch), "--fb-filters",
              str(fb), "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    base = ["java", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp", cp]
    if mode == "predict":
        return base + ["dfbmodels.examples.PredictorBenchmark"] + common + [
            "--iterations", str(t), "--repeats", str(args.predict_repeats)]
    return base + ["dfbmodels.examples.Benchmark"] + common + ["--child", "%s:%d" % (mode, t)]


def python_cmd(case, args):
    _, _, model, size, batch, t, _, mode = case
    repeats = args.predict_repeats if mode == "predict" else args.repeats
    return ["/usr/bin/python3", os.path.join("tools", "bench_pytorch.py"), model, str(size),
            str(batch), str(t), mode, str(args.warmup), str(repeats), str(args.threads)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--predict-repeats", type=int, default=50)
    p.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    p.add_argument("--cases", default="all")
    p.add_argument("--java-env", nargs="*", default=[],
                   help="extra environment for the Java side only, e.g. DNNL_MAX_CPU_ISA=SSE41")
    args = p.parse_args()
    groups = None if args.cases == "all" else set(args.cases.split(","))
    cases = [c for c in CASES if groups is None or c[0] in groups]
    if not cases:
        raise SystemExit("--cases: none of %s is a case group (resnet18, backbone, resnet50,"
                         " deeplab, predict)" % args.cases)
    cp = java_classpath()
    env = dict(os.environ)
    java_env = dict(env)
    for kv in args.java_env:
        k, v = kv.split("=", 1)
        java_env[k] = v
    results = {(c, side): [] for c in range(len(cases)) for side in ("java", "torch")}
    start = time.time()
    for r in range(args.rounds):
        for i, case in enumerate(cases):
            order = ("torch", "java") if (r + i) % 2 == 0 else ("java", "torch")
            for side in order:
                if side == "java":
                    res = run(java_cmd(case, args, cp), java_env)
                else:
                    res = run(python_cmd(case, args), env)
                results[(i, side)].append(res)
                print("round %d %-7s %-50s %-14s %8.1f ms  (%.0f s)" % (
                    r + 1, side, case[1], case[7], float(res["ms"]), time.time() - start),
                    file=sys.stderr, flush=True)

    def fmt(side_results, key="ms"):
        v = [float(x[key]) for x in side_results]
        return statistics.median(v), min(v), max(v)

    print("| case | mode | PyTorch eager ms (spread) | this library ms (spread) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for i, case in enumerate(cases):
        tm, tlo, thi = fmt(results[(i, "torch")])
        jm, jlo, jhi = fmt(results[(i, "java")])
        print("| %s | %s | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %.2f |" % (
            case[1], case[7], tm, tlo, thi, jm, jlo, jhi, jm / tm))
    pred = [i for i, c in enumerate(cases) if c[7] == "predict"]
    if pred:
        print()
        print("| Predictor case | side | img/s | p50 ms | p99 ms |")
        print("| --- | --- | --- | --- | --- |")
        for i in pred:
            for side, name in (("torch", "PyTorch eager"), ("java", "this library")):
                rs = results[(i, side)]
                print("| %s | %s | %.1f | %.1f | %.1f |" % (
                    cases[i][1], name, statistics.median(float(x["ips"]) for x in rs),
                    statistics.median(float(x["p50"]) for x in rs),
                    statistics.median(float(x["p99"]) for x in rs)))
    print()
    print("%d rounds, warm-up %d, repeats %d (Predictor %d), PyTorch threads %d%s; %.0f s" % (
        args.rounds, args.warmup, args.repeats, args.predict_repeats, args.threads,
        (", Java env " + " ".join(args.java_env)) if args.java_env else "", time.time() - start))


if __name__ == "__main__":
    main()
