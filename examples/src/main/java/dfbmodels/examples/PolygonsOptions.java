package dfbmodels.examples;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/** Command-line options of {@link Polygons}. */
public final class PolygonsOptions {

    int size = 64;
    int train = 10;
    float sigma = 1f;
    int test = 24;
    float[] sigmas = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    int iterations = 5;
    int steps = 60;
    int batchSize = 2;
    float learningRate = 1e-2f;
    boolean deepSupervision = true;
    int[] lowData = {1, 2, 4, 8, 16};
    int[] layers = {3, 4, 6, 3};
    int fbFilters = 2;
    int classFilters = 16;
    float tau = 0.2f;
    double timeExponent = 1.5;
    Path output = Paths.get("build", "polygons");
    String device = "cpu";
    long seed = 42;

    static final String USAGE =
            String.join(
                    "\n",
                    "Usage: Polygons [options]",
                    "  --size N                 image height and width, a multiple of 32 (default 64;",
                    "                           32 needs batches of at least 2 images)",
                    "  --train N                training images (default 10, as the paper's example)",
                    "  --sigma X                noise of the training images (default 1)",
                    "  --test N                 test images per noise level (default 24)",
                    "  --sigmas X,Y,...         noise levels of the evaluation and the figure's rows",
                    "                           (default 0,1,2,3,4,5,6,7,8)",
                    "  --iterations T           feedback steps, training and evaluation (default 5)",
                    "  --steps N                optimiser steps per training run (default 60)",
                    "  --batch-size N           batch size (default 2; an epoch's last incomplete batch",
                    "                           is dropped)",
                    "  --lr X                   Adam learning rate (default 0.01, as the paper)",
                    "  --deep-supervision B     supervise every step, as the original (default true)",
                    "  --low-data N,M,...       training-set sizes of the low-data experiment",
                    "                           (default 1,2,4,8,16; none to skip it)",
                    "  --layers A,B,C,D         encoder blocks per layer (default 3,4,6,3: ResNet34)",
                    "  --fb-filters N           feedback filters (default 2)",
                    "  --class-filters N        state channels read out (default 16)",
                    "  --tau X                  state decay time constant (default 0.2)",
                    "  --time-exponent X        alpha of (1 - t/T)^(alpha-1) / Gamma(alpha) (default 1.5)",
                    "  --output DIR             figure, CSV and charts (default build/polygons)",
                    "  --device cpu|gpu         (default cpu)",
                    "  --seed N                 random seed (default 42)");

    /**
     * Parses command-line arguments.
     *
     * @param args the arguments
     * @return the options
     * @throws IllegalArgumentException naming the bad option and what is valid
     */
    public static PolygonsOptions parse(String... args) {
        PolygonsOptions o = new PolygonsOptions();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if ("--help".equals(name) || "-h".equals(name)) {
                throw new Cli.HelpRequested(USAGE);
            }
            if (i + 1 >= args.length) {
                throw Cli.missingValue(name, USAGE);
            }
            String v = args[++i];
            switch (name) {
                case "--size":
                    o.size = positive(name, v);
                    if (o.size % 32 != 0) {
                        throw new IllegalArgumentException(
                                "--size must be a multiple of 32 (the U-Net halves it 5 times), got "
                                        + v
                                        + "; nearest: "
                                        + Math.max(32, o.size / 32 * 32)
                                        + " or "
                                        + (o.size / 32 + 1) * 32);
                    }
                    break;
                case "--train":
                    o.train = positive(name, v);
                    break;
                case "--sigma":
                    o.sigma = nonNegative(name, v);
                    break;
                case "--test":
                    o.test = positive(name, v);
                    break;
                case "--sigmas":
                    String[] parts = v.split(",");
                    o.sigmas = new float[parts.length];
                    for (int k = 0; k < parts.length; k++) {
                        o.sigmas[k] = nonNegative(name, parts[k]);
                    }
                    break;
                case "--iterations":
                    o.iterations = positive(name, v);
                    break;
                case "--steps":
                    o.steps = positive(name, v);
                    break;
                case "--batch-size":
                    o.batchSize = positive(name, v);
                    break;
                case "--lr":
                    o.learningRate = nonNegative(name, v);
                    if (o.learningRate == 0) {
                        throw new IllegalArgumentException("--lr must be positive, got " + v);
                    }
                    break;
                case "--deep-supervision":
                    if (!v.equals("true") && !v.equals("false")) {
                        throw new IllegalArgumentException(
                                "--deep-supervision must be true or false, got " + v);
                    }
                    o.deepSupervision = Boolean.parseBoolean(v);
                    break;
                case "--low-data":
                    o.lowData = v.equals("none") ? new int[0] : positives(name, v, -1);
                    break;
                case "--layers":
                    o.layers = positives(name, v, 4);
                    break;
                case "--fb-filters":
                    o.fbFilters = positive(name, v);
                    break;
                case "--class-filters":
                    o.classFilters = positive(name, v);
                    break;
                case "--tau":
                    o.tau = nonNegative(name, v);
                    if (o.tau == 0) {
                        throw new IllegalArgumentException("--tau must be positive, got " + v);
                    }
                    break;
                case "--time-exponent":
                    o.timeExponent = nonNegative(name, v);
                    if (o.timeExponent == 0) {
                        throw new IllegalArgumentException(
                                "--time-exponent must be positive, got " + v);
                    }
                    break;
                case "--output":
                    o.output = Paths.get(v);
                    break;
                case "--device":
                    if (!v.equals("cpu") && !v.equals("gpu")) {
                        throw new IllegalArgumentException("--device must be cpu or gpu, got " + v);
                    }
                    o.device = v;
                    break;
                case "--seed":
                    try {
                        o.seed = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--seed must be an integer, got " + v);
                    }
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + name + "\n" + USAGE);
            }
        }
        o.checkBatches();
        return o;
    }

    /**
     * At 32×32 the encoder's deepest layer is 1×1, so a batch of one image leaves BatchNorm one
     * value per channel and training fails; say so before anything is trained.
     */
    private void checkBatches() {
        if (size > 32) {
            return;
        }
        int smallest = Math.min(batchSize, train);
        for (int n : lowData) {
            smallest = Math.min(smallest, n);
        }
        if (smallest < 2) {
            throw new IllegalArgumentException(
                    "--size 32 cannot train on batches of one image (the encoder's deepest layer is"
                            + " 1x1, and BatchNorm needs more than one value per channel), got"
                            + " --batch-size "
                            + batchSize
                            + ", --train "
                            + train
                            + ", --low-data "
                            + (lowData.length == 0 ? "none" : joined(lowData))
                            + "; use --size 64 or larger, or --batch-size, --train and every"
                            + " --low-data size >= 2");
        }
    }

    private static String joined(int[] values) {
        return Arrays.stream(values)
                .mapToObj(String::valueOf)
                .reduce((a, b) -> a + "," + b)
                .orElse("");
    }

    private static int positive(String name, String value) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + value);
        }
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + value);
        }
        return n;
    }

    private static int[] positives(String name, String value, int count) {
        int[] out = Arrays.stream(value.split(",")).mapToInt(p -> positive(name, p)).toArray();
        if (count > 0 && out.length != count) {
            throw new IllegalArgumentException(
                    name + " needs " + count + " comma-separated positive integers, got " + value);
        }
        return out;
    }

    private static float nonNegative(String name, String value) {
        float x;
        try {
            x = Float.parseFloat(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number >= 0, got " + value);
        }
        if (!(x >= 0) || Float.isInfinite(x)) {
            throw new IllegalArgumentException(name + " must be a number >= 0, got " + value);
        }
        return x;
    }
}
