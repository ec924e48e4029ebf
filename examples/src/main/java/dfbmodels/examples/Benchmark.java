package dfbmodels.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.JsonUtils;
import ai.djl.util.PairList;
import ai.djl.util.cuda.CudaUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dfbmodels.FeedbackBlock;
import dfbmodels.state.QrDecomposition;
import dfbmodels.state.StateExpDecay;
import dfbmodels.state.StateOperator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures what feedback costs: training-step and inference time, images/s and peak memory for a
 * list of T, the same backbone without the loop for comparison, the share of the state operator and
 * of Q's QR in a training step, and (with {@code --profile}) Java overhead as wall time vs.
 * LibTorch operator time.
 *
 * <pre>
 *   mvn -q exec:java -Dmain.class=dfbmodels.examples.Benchmark \
 *       -Dexec.args="--model resnet18 --size 32 --batch 32 --iterations 1,5 --profile true"
 * </pre>
 *
 * <p>Every (model, T, mode) runs in its own JVM so that its peak RSS is its own; each reports the
 * median of {@code --repeats} timed runs after {@code --warmup} untimed ones, with a warning when
 * those runs differ by more than {@link #SPREAD_LIMIT}×. The cost line's shares are of the table's
 * training step time.
 */
public final class Benchmark {

    private Benchmark() {}

    /**
     * Runs the benchmark, in the examples' command-line frame ({@link Cli}).
     *
     * @param args see {@link BenchmarkOptions#USAGE}
     * @throws Exception if a measurement fails
     */
    public static void main(String[] args) throws Exception {
        Cli.main(args, BenchmarkOptions::parse, c -> run(args, c));
    }

    /**
     * Prints the table (or, in a child JVM, makes one measurement).
     *
     * @param args the command line, passed on to the child JVMs
     * @param c the options it gives
     * @throws IllegalArgumentException with {@code --device gpu} where LibTorch sees no GPU
     * @throws Exception if a measurement fails
     */
    static void run(String[] args, BenchmarkOptions c) throws Exception {
        if (c.child != null) {
            child(c);
            return;
        }
        OptionValues.runtimeDevice(c.device);
        System.out.printf(
                Locale.ROOT,
                "%s, input %dx%d, batch %d, device %s, uniform shortcut %s, DJL %s, LibTorch %s,"
                        + " LAPACK %s%n",
                c.model,
                c.height,
                c.width,
                c.batch,
                c.device,
                c.uniformShortcut ? "on" : "off",
                Engine.getDjlVersion(),
                Engine.getEngine("PyTorch").getVersion(),
                QrDecomposition.implementation());
        Map<String, String> backboneTrain = spawn(args, "backbone-train:1");
        Map<String, String> backboneInfer = spawn(args, "backbone-infer:1");
        double bbTrain = Double.parseDouble(backboneTrain.get("ms"));
        double bbInfer = Double.parseDouble(backboneInfer.get("ms"));
        System.out.println(
                "| T | train ms/step | train img/s | train peak RSS MB | train / (T x backbone)"
                        + " | infer ms | infer img/s | infer peak RSS MB | infer / (T x backbone)"
                        + " |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        List<String> warnings = new ArrayList<>();
        row("backbone", backboneTrain, backboneInfer, 1, bbTrain, bbInfer);
        warnings.addAll(spread(c, "backbone training", backboneTrain));
        warnings.addAll(spread(c, "backbone inference", backboneInfer));
        int maxT = Arrays.stream(c.iterations).max().orElse(1);
        Map<String, String> trainAtMaxT = null;
        for (int t : c.iterations) {
            Map<String, String> train = spawn(args, "train:" + t);
            Map<String, String> infer = spawn(args, "infer:" + t);
            row(String.valueOf(t), train, infer, t, bbTrain, bbInfer);
            warnings.addAll(spread(c, "training at T=" + t, train));
            warnings.addAll(spread(c, "inference at T=" + t, infer));
            if (t == maxT) {
                trainAtMaxT = train;
            }
        }
        Map<String, String> share = spawn(args, "share:" + maxT);
        System.out.println(costLine(maxT, share, Double.parseDouble(trainAtMaxT.get("ms"))));
        warnings.forEach(System.out::println);
        if (c.profile) {
            Map<String, String> p = spawn(args, "profile:" + maxT);
            System.out.printf(
                    Locale.ROOT,
                    "profile, training at T=%d: wall %.1f ms/step, LibTorch operator self time %.1f"
                            + " ms/step, wall/operators = %.3f (%s operator events)%n",
                    maxT,
                    Double.parseDouble(p.get("wall")),
                    Double.parseDouble(p.get("ops")),
                    Double.parseDouble(p.get("wall")) / Double.parseDouble(p.get("ops")),
                    p.get("events"));
        }
    }

    /**
     * The cost line: the shares of Q's re-orthogonalisation and of the state operator in a training
     * step, over the step time of the table's row (one measurement, so the two cannot disagree).
     *
     * @param t the largest T measured
     * @param share the {@code share} measurement: {@code q}, {@code plan} (what a training forward
     *     does for Q, words joined by {@code _}), {@code qr}, {@code op}
     * @param stepMs the table's training ms/step at T
     * @return the line
     */
    static String costLine(int t, Map<String, String> share, double stepMs) {
        double qr = Double.parseDouble(share.get("qr"));
        double op = Double.parseDouble(share.get("op"));
        return String.format(
                Locale.ROOT,
                "cost per training step at T=%d: Q's re-orthogonalisation (Q is %s; %s) %.1f ms,"
                        + " state operator (forward + backward, %d steps) %.1f ms; step %.1f ms"
                        + " (the table's) -> re-orthogonalisation %.1f%%, state operator %.1f%%",
                t,
                share.get("q"),
                share.get("plan").replace('_', ' '),
                qr,
                t,
                op,
                stepMs,
                100 * qr / stepMs,
                100 * op / stepMs);
    }

    /** Timed runs that differ by more than this factor are not yet warm (or were disturbed). */
    static final double SPREAD_LIMIT = 1.5;

    /**
     * A warning when a measurement's timed runs spread by more than {@link #SPREAD_LIMIT}: its
     * median is then not to be trusted.
     *
     * @param c the configuration ({@code --warmup}, {@code --repeats})
     * @param what the measurement's name
     * @param m the measurement: {@code ms}, {@code min}, {@code max}
     * @return the warning, or nothing
     */
    static List<String> spread(BenchmarkOptions c, String what, Map<String, String> m) {
        double min = Double.parseDouble(m.get("min"));
        double max = Double.parseDouble(m.get("max"));
        if (max <= SPREAD_LIMIT * min) {
            return List.of();
        }
        return List.of(
                String.format(
                        Locale.ROOT,
                        "warning: %s took %.1f to %.1f ms over %d timed runs after %d warm-up"
                                + " run%s: the median %.1f ms is not to be trusted; raise --warmup"
                                + " (and --repeats), on an otherwise idle machine",
                        what,
                        min,
                        max,
                        c.repeats,
                        c.warmup,
                        c.warmup == 1 ? "" : "s",
                        Double.parseDouble(m.get("ms"))));
    }

    private static void row(
            String label,
            Map<String, String> train,
            Map<String, String> infer,
            int t,
            double bbTrain,
            double bbInfer) {
        double tr = Double.parseDouble(train.get("ms"));
        double in = Double.parseDouble(infer.get("ms"));
        System.out.printf(
                Locale.ROOT,
                "| %s | %.1f | %s | %s | %.2f | %.1f | %s | %s | %.2f |%n",
                label,
                tr,
                rate(Double.parseDouble(train.get("ips"))),
                train.get("rss")
                        + (train.containsKey("gpu") ? " (GPU " + train.get("gpu") + ")" : ""),
                tr / (t * bbTrain),
                in,
                rate(Double.parseDouble(infer.get("ips"))),
                infer.get("rss")
                        + (infer.containsKey("gpu") ? " (GPU " + infer.get("gpu") + ")" : ""),
                in / (t * bbInfer));
    }

    /** Images per second with three significant digits below 100 (slow models, big images). */
    private static String rate(double ips) {
        return String.format(Locale.ROOT, ips >= 100 ? "%.1f" : "%.3g", ips);
    }

    private static Map<String, String> spawn(String[] args, String child)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-cp");
        cmd.add(classPath());
        for (String p : new String[] {"ai.djl.offline", "java.awt.headless"}) {
            if (System.getProperty(p) != null) {
                cmd.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add(Benchmark.class.getName());
        cmd.addAll(Arrays.asList(args));
        cmd.add("--child");
        cmd.add(child);
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, String> result = new HashMap<>();
        StringBuilder log = new StringBuilder();
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    for (String kv : line.substring(7).split(" ")) {
                        String[] p = kv.split("=", 2);
                        result.put(p[0], p[1]);
                    }
                } else {
                    log.append(line).append('\n');
                }
            }
        }
        if (process.waitFor() != 0 || result.isEmpty()) {
            throw new IllegalStateException("measurement " + child + " failed:\n" + log);
        }
        return result;
    }

    /** The class path of this class's loader (under {@code mvn exec:java} it is not the JVM's). */
    private static String classPath() {
        ClassLoader loader = Benchmark.class.getClassLoader();
        if (loader instanceof java.net.URLClassLoader) {
            List<String> parts = new ArrayList<>();
            for (java.net.URL url : ((java.net.URLClassLoader) loader).getURLs()) {
                try {
                    parts.add(Paths.get(url.toURI()).toString());
                } catch (java.net.URISyntaxException e) {
                    parts.add(url.getPath());
                }
            }
            return String.join(java.io.File.pathSeparator, parts);
        }
        return System.getProperty("java.class.path");
    }

    private static void child(BenchmarkOptions c) throws IOException {
        String[] kind = c.child.split(":");
        int t = Integer.parseInt(kind[1]);
        Engine.getInstance().setRandomSeed(0);
        Device device = OptionValues.runtimeDevice(c.device);
        FeedbackBlock model = c.build(t);
        Block block = kind[0].startsWith("backbone") ? new Backbone(model) : model;
        Shape in = new Shape(c.batch, 3, c.height, c.width);
        StringBuilder out = new StringBuilder("RESULT");
        try (Model m = Model.newInstance("bench", device)) {
            m.setBlock(block);
            NDManager manager = m.getNDManager();
            NDArray x = manager.randomNormal(in);
            NDArray y =
                    c.segmentation()
                            ? manager.randomInteger(
                                    0,
                                    c.classes,
                                    new Shape(c.batch, 1, c.height, c.width),
                                    DataType.INT64)
                            : manager.randomInteger(
                                    0, c.classes, new Shape(c.batch), DataType.INT64);
            Loss loss =
                    c.segmentation()
                            ? new SoftmaxCrossEntropyLoss("loss", 1, 1, true, true)
                            : Loss.softmaxCrossEntropyLoss();
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(loss)
                            .optOptimizer(Optimizer.adam().build())
                            .optDevices(new Device[] {device});
            try (Trainer trainer = m.newTrainer(config)) {
                trainer.initialize(in);
                switch (kind[0]) {
                    case "train":
                    case "backbone-train":
                        appendTimes(out, timed(c, () -> trainStep(trainer, x, y)), c.batch);
                        break;
                    case "infer":
                    case "backbone-infer":
                        appendTimes(out, timed(c, () -> infer(block, manager, x)), c.batch);
                        break;
                    case "share":
                        share(c, model, trainer, x, y, t, out);
                        break;
                    case "profile":
                        profile(c, trainer, x, y, out);
                        break;
                    default:
                        throw new IllegalArgumentException(c.child);
                }
            }
        }
        out.append(" rss=").append(peakRssMb());
        if (device.isGpu()) {
            out.append(" gpu=")
                    .append(CudaUtils.getGpuMemory(device).getUsed() / (1 << 20))
                    .append("MB");
        }
        System.out.println(out);
    }

    private static void trainStep(Trainer trainer, NDArray x, NDArray y) {
        try (NDManager step = x.getManager().newSubManager()) {
            // results take their input's manager: without this, every step's arrays would stay
            step.tempAttachAll(x, y);
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDArray pred = trainer.forward(new NDList(x)).head();
                NDArray l = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                gc.backward(l);
                l.getFloat();
            }
            trainer.step();
        }
    }

    private static void infer(Block block, NDManager manager, NDArray x) {
        try (NDManager batch = manager.newSubManager()) {
            batch.tempAttachAll(x);
            block.forward(new ParameterStore(batch, false), new NDList(x), false)
                    .head()
                    .sum()
                    .getFloat();
        }
    }

    private static double median(BenchmarkOptions c, Runnable r) {
        return timed(c, r)[1];
    }

    /**
     * Milliseconds of {@code --repeats} runs after {@code --warmup} untimed ones: min, median, max.
     */
    private static double[] timed(BenchmarkOptions c, Runnable r) {
        for (int i = 0; i < c.warmup; i++) {
            r.run();
        }
        double[] t = new double[c.repeats];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return new double[] {t[0], t[t.length / 2], t[t.length - 1]};
    }

    private static void appendTimes(StringBuilder out, double[] t, int batch) {
        out.append(" ms=").append(t[1]).append(" ips=").append(batch * 1000 / t[1]);
        out.append(" min=").append(t[0]).append(" max=").append(t[2]);
    }

    private static void share(
            BenchmarkOptions c,
            FeedbackBlock model,
            Trainer trainer,
            NDArray x,
            NDArray y,
            int t,
            StringBuilder out) {
        // the same warm-up as the table's training measurement; the step time is the table's
        for (int i = 0; i < c.warmup; i++) {
            trainStep(trainer, x, y);
        }
        StateOperator op = model.getStateOp();
        NDArray q = op.getParameters().get("Q").getArray();
        Shape state = model.getOutputShapes(new Shape[] {x.getShape()})[0];
        // the state operator's input has the state's shape: (B, C, Hs, Ws)
        Shape stateShape = stateShape(model, x);
        ParameterStore store = new ParameterStore(x.getManager(), false);
        // what a training forward does for Q before its first step, as after the steps above: the
        // probe check, and the QR (with the copy to the host) when Q needs one
        NDArray like = x.getManager().zeros(stateShape);
        StateOperator.Plan plan = op.planTraining(store, like, false);
        double qr = median(c, () -> op.planTraining(store, like, false));
        double opMs =
                median(
                        c,
                        () -> {
                            try (NDManager s = x.getManager().newSubManager()) {
                                s.tempAttachAll(x);
                                NDArray e = s.randomNormal(stateShape);
                                e.setRequiresGradient(true);
                                try (GradientCollector gc = trainer.newGradientCollector()) {
                                    NDArray sum = null;
                                    ParameterStore ps = new ParameterStore(s, false);
                                    for (int i = 1; i <= t; i++) {
                                        NDArray o = op.apply(ps, e, i, true, plan);
                                        sum = sum == null ? o : sum.add(o);
                                    }
                                    gc.backward(sum.sum());
                                }
                                e.getGradient().sum().getFloat();
                            }
                        });
        // the U-Net's GeneralStateExpDecay plans nothing: its Q is never re-orthogonalised
        String what =
                !(plan instanceof StateExpDecay.TrainingPlan)
                        ? "no re-orthogonalisation"
                        : ((StateExpDecay.TrainingPlan) plan).reorthogonalizes()
                                ? "QR incl. copy to the host"
                                : "probe check only, Q is already orthogonal";
        out.append(" plan=").append(what.replace(' ', '_'));
        out.append(" qr=").append(qr);
        out.append(" op=").append(opMs);
        out.append(" q=").append(q.getShape().get(0)).append('x').append(q.getShape().get(1));
        out.append(" out=").append(state.toString().replace(" ", ""));
    }

    private static Shape stateShape(FeedbackBlock model, NDArray x) {
        PairList<String, Object> p = new PairList<>();
        p.add(FeedbackBlock.ITERATIONS, 1);
        p.add(FeedbackBlock.RETURN_STATES, true);
        try (NDManager s = x.getManager().newSubManager()) {
            s.tempAttachAll(x);
            return model.forward(new ParameterStore(s, false), new NDList(x), false, p)
                    .get(1)
                    .getShape();
        }
    }

    private static void profile(
            BenchmarkOptions c, Trainer trainer, NDArray x, NDArray y, StringBuilder out)
            throws IOException {
        for (int i = 0; i < c.warmup; i++) {
            trainStep(trainer, x, y);
        }
        Path trace = Files.createTempFile("dfbmodels-profile", ".json");
        JniUtils.startProfile(false, false, false);
        long t0 = System.nanoTime();
        for (int i = 0; i < c.repeats; i++) {
            trainStep(trainer, x, y);
        }
        double wall = (System.nanoTime() - t0) / 1e6 / c.repeats;
        JniUtils.stopProfile(trace.toString());
        double[] ops = operatorSelfTime(trace);
        Files.deleteIfExists(trace);
        out.append(" wall=").append(wall);
        out.append(" ops=").append(ops[0] / 1000 / c.repeats);
        out.append(" events=").append((long) ops[1]);
    }

    /** Sums the self time (µs) of the trace's complete events, per thread: [total, count]. */
    static double[] operatorSelfTime(Path trace) throws IOException {
        JsonElement root = JsonUtils.GSON.fromJson(Files.readString(trace), JsonElement.class);
        JsonArray events =
                root.isJsonArray()
                        ? root.getAsJsonArray()
                        : root.getAsJsonObject().getAsJsonArray("traceEvents");
        Map<String, List<double[]>> byThread = new HashMap<>();
        for (JsonElement e : events) {
            JsonObject o = e.getAsJsonObject();
            if (!o.has("ph") || !"X".equals(o.get("ph").getAsString()) || !o.has("dur")) {
                continue;
            }
            String cat = o.has("cat") ? o.get("cat").getAsString() : "";
            if (!cat.isEmpty() && !cat.equals("cpu_op") && !cat.equals("Operator")) {
                continue;
            }
            byThread.computeIfAbsent(o.get("tid").getAsString(), k -> new ArrayList<>())
                    .add(new double[] {o.get("ts").getAsDouble(), o.get("dur").getAsDouble()});
        }
        double total = 0;
        long count = 0;
        for (List<double[]> list : byThread.values()) {
            // nested events: the union of top-level intervals is the time spent inside operators
            list.sort((a, b) -> Double.compare(a[0], b[0]));
            double end = Double.NEGATIVE_INFINITY;
            for (double[] ev : list) {
                count++;
                double s = ev[0];
                double f = ev[0] + ev[1];
                if (f <= end) {
                    continue;
                }
                total += f - Math.max(s, end);
                end = f;
            }
        }
        return new double[] {total, count};
    }

    static long peakRssMb() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmHWM")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
