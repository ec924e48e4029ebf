package dfbmodels.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.DeepLabV3Plus;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNetStem;
import dfbmodels.state.QrDecomposition;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * Quick measurements for the docs (not a test). Usage: {@code QuickBench qr | train T | memory T |
 * deeplab SIZE | load | stem IMAGENET|CIFAR FB T [FEEDBACK [WIDTH]]}.
 */
public final class QuickBench {

    private QuickBench() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "qr":
                qr();
                break;
            case "train":
                train(Integer.parseInt(args[1]));
                break;
            case "memory":
                memory(Integer.parseInt(args[1]));
                break;
            case "deeplab":
                deeplab(Integer.parseInt(args[1]));
                break;
            case "load":
                load();
                break;
            case "stem":
                stem(
                        ResNetStem.valueOf(args[1]),
                        Integer.parseInt(args[2]),
                        Integer.parseInt(args[3]),
                        args.length < 5 || Boolean.parseBoolean(args[4]),
                        args.length < 6 ? 64 : Integer.parseInt(args[5]));
                break;
            default:
                throw new IllegalArgumentException(
                        "qr | train T | memory T | deeplab SIZE | load | stem IMAGENET|CIFAR FB"
                                + " T [FEEDBACK [WIDTH]]");
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static void qr() {
        System.out.println("LAPACK: " + QrDecomposition.implementation());
        try (NDManager m = NDManager.newBaseManager()) {
            for (int n : new int[] {512, 1024, 2080}) {
                for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                    NDArray a = m.randomNormal(new Shape(n, n)).toType(type, false);
                    double[] t = new double[5];
                    for (int i = 0; i < t.length + 1; i++) {
                        long t0 = System.nanoTime();
                        QrDecomposition.orthogonalFactor(a).close();
                        if (i > 0) {
                            t[i - 1] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    System.out.printf("qr n=%d %s: median %.1f ms%n", n, type, median(t));
                }
            }
        }
    }

    private static void train(int iterations) {
        Engine.getInstance().setRandomSeed(0);
        try (Model model = Model.newInstance("bench");
                NDManager m = NDManager.newBaseManager()) {
            model.setBlock(
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optFbFilters(8)
                            .optIterations(iterations)
                            .optAtol(0f)
                            .build());
            try (Trainer trainer =
                    model.newTrainer(
                            new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                                    .optOptimizer(Optimizer.adam().build()))) {
                Shape in = new Shape(32, 3, 32, 32);
                trainer.initialize(in);
                NDArray x = m.randomNormal(in);
                NDArray y = m.randomInteger(0, 10, new Shape(32), DataType.INT32);
                double[] t = new double[10];
                for (int i = 0; i < t.length + 3; i++) {
                    long t0 = System.nanoTime();
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray pred = trainer.forward(new NDList(x)).head();
                        gc.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(pred)));
                    }
                    trainer.step();
                    if (i >= 3) {
                        t[i - 3] = (System.nanoTime() - t0) / 1e6;
                    }
                }
                System.out.printf(
                        "train ResNet18 fb=8 32x32 batch 32 T=%d: median %.0f ms/step (min %.0f)%n",
                        iterations, median(t), Arrays.stream(t).min().getAsDouble());
            }
        }
    }

    /**
     * One Fashion-MNIST-sized training step (ResNet18, 1 channel, 28×28, batch 64, Adam, no early
     * stop) per stem: what an epoch of the MNIST example costs (938 steps). Reports wall time and
     * the process's CPU time per step (on a shared machine the CPU time is the steadier number;
     * with both cores free the wall time is about half of it).
     */
    private static void stem(ResNetStem stem, int fb, int iterations, boolean feedback, int width) {
        Engine.getInstance().setRandomSeed(0);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (Model model = Model.newInstance("bench");
                NDManager m = NDManager.newBaseManager()) {
            model.setBlock(
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optStem(stem)
                            .optWidth(width)
                            .optFbFilters(fb)
                            .optIterations(iterations)
                            .optFeedback(feedback)
                            .optAtol(0f)
                            .build());
            try (Trainer trainer =
                    model.newTrainer(
                            new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                                    .optOptimizer(Optimizer.adam().build()))) {
                Shape in = new Shape(64, 1, 28, 28);
                trainer.initialize(in);
                NDArray x = m.randomUniform(0, 1, in);
                NDArray y = m.randomInteger(0, 10, new Shape(64), DataType.INT32);
                int repeats = 3;
                double[] wall = new double[repeats];
                double[] cpu = new double[repeats];
                for (int i = 0; i < repeats + 1; i++) {
                    long t0 = System.nanoTime();
                    long c0 = os.getProcessCpuTime();
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray pred = trainer.forward(new NDList(x)).head();
                        gc.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(pred)));
                    }
                    trainer.step();
                    if (i >= 1) {
                        wall[i - 1] = (System.nanoTime() - t0) / 1e6;
                        cpu[i - 1] = (os.getProcessCpuTime() - c0) / 1e6;
                    }
                }
                System.out.printf(
                        "ResNet18 %s stem width=%d fb=%d feedback=%b 28x28x1 batch 64 T=%d: train"
                                + " wall %.0f ms/step (min %.0f), CPU %.0f ms/step (%.0f img/CPU-s);"
                                + " %.1f min/epoch of 938 steps at this wall time, %.1f at CPU/2;"
                                + " peak RSS %d MB%n",
                        stem,
                        width,
                        fb,
                        feedback,
                        iterations,
                        median(wall),
                        Arrays.stream(wall).min().getAsDouble(),
                        median(cpu),
                        64 / (median(cpu) / 1000),
                        median(wall) * 938 / 60000,
                        median(cpu) / 2 * 938 / 60000,
                        peakRssMb());
            }
        }
    }

    /** The process's peak resident set (VmHWM), in MB; -1 where /proc is not available. */
    private static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (java.io.IOException e) {
            return -1;
        }
        return -1;
    }

    private static void deeplab(int size) {
        Engine.getInstance().setRandomSeed(0);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model =
                    DeepLabV3Plus.builder().setNumClasses(8).optIterations(5).optAtol(0f).build();
            int batch = 2;
            Shape in = new Shape(batch, 3, size, size);
            model.initialize(m, DataType.FLOAT32, in);
            double[] t = new double[5];
            for (int i = 0; i < t.length + 1; i++) {
                try (NDManager b = m.newSubManager()) {
                    NDArray x = b.randomNormal(in);
                    long t0 = System.nanoTime();
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray out =
                                model.forward(new ParameterStore(b, false), new NDList(x), true)
                                        .head();
                        gc.backward(out.square().mean());
                    }
                    if (i > 0) {
                        t[i - 1] = (System.nanoTime() - t0) / 1e6 / batch;
                    }
                }
            }
            System.out.printf(
                    "DeepLabV3+ (defaults) %dx%d T=5 forward+backward: median %.0f ms/image%n",
                    size, size, median(t));
        }
    }

    private static void memory(int iterations) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model =
                    ResNet18.builder().setNumClasses(10).optFbFilters(8).optAtol(0f).build();
            Shape in = new Shape(16, 3, 64, 64);
            model.initialize(m, DataType.FLOAT32, in);
            PairList<String, Object> p = new PairList<>();
            p.add(FeedbackBlock.ITERATIONS, iterations);
            for (int i = 0; i < 3; i++) {
                try (NDManager batch = m.newSubManager()) {
                    NDArray x = batch.randomNormal(in);
                    model.forward(new ParameterStore(batch, false), new NDList(x), false, p)
                            .head()
                            .sum()
                            .getFloat();
                }
            }
        }
        String hwm =
                Files.readAllLines(Paths.get("/proc/self/status")).stream()
                        .filter(l -> l.startsWith("VmHWM"))
                        .findFirst()
                        .orElse("VmHWM: ?");
        System.out.printf(
                "inference ResNet18 fb=8 64x64 batch 16 T=%d: peak RSS %s%n",
                iterations, hwm.replaceAll("\\s+", " "));
    }

    /**
     * Model.load of a ResNet50 (fb 8, 10 classes) .params file, checked by DjlParameters, into an
     * initialised and a fresh block, against DJL's loading alone (the check bypassed).
     */
    @SuppressWarnings("unchecked")
    private static void load() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory("dfbmodels-load");
        Shape input = new Shape(1, 3, 32, 32);
        try (Model model = Model.newInstance("r50")) {
            FeedbackBlock block = dfbmodels.models.ResNet50.builder().setNumClasses(10).build();
            block.initialize(model.getNDManager(), DataType.FLOAT32, input);
            model.setBlock(block);
            model.save(dir, "r50");
        }
        java.nio.file.Path file = dir.resolve("r50-0000.params");
        java.lang.reflect.Field writing =
                dfbmodels.io.DjlParameters.class.getDeclaredField("WRITING");
        writing.setAccessible(true);
        ThreadLocal<Boolean> bypass = (ThreadLocal<Boolean>) writing.get(null);
        int reps = 5;
        for (boolean initialised : new boolean[] {true, false}) {
            for (boolean checked : new boolean[] {true, false}) {
                double[] t = new double[reps];
                for (int r = 0; r < reps; r++) {
                    try (Model model = Model.newInstance("r50")) {
                        FeedbackBlock block =
                                dfbmodels.models.ResNet50.builder().setNumClasses(10).build();
                        if (initialised) {
                            block.initialize(model.getNDManager(), DataType.FLOAT32, input);
                        }
                        model.setBlock(block);
                        bypass.set(!checked);
                        long t0 = System.nanoTime();
                        model.load(dir, "r50");
                        t[r] = (System.nanoTime() - t0) / 1e6;
                        bypass.set(false);
                    }
                }
                System.out.printf(
                        "Model.load ResNet50 (%,d bytes), %s block, %s: median %.0f ms (min %.0f)%n",
                        Files.size(file),
                        initialised ? "initialised" : "fresh",
                        checked ? "checked" : "DJL alone",
                        median(t),
                        Arrays.stream(t).min().getAsDouble());
            }
        }
    }
}
