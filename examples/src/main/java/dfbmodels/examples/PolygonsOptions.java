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
        Cli.parse(args, USAGE, o::set);
        o.checkBatches();
        return o;
    }

    private boolean set(String name, String v) {
        switch (name) {
            case "--size":
                size = OptionValues.positive(name, v);
                if (size % 32 != 0) {
                    throw new IllegalArgumentException(
                            "--size must be a multiple of 32 (the U-Net halves it 5 times), got "
                                    + v
                                    + "; nearest: "
                                    + Math.max(32, size / 32 * 32)
                                    + " or "
                                    + (size / 32 + 1) * 32);
                }
                return true;
            case "--train":
                train = OptionValues.positive(name, v);
                return true;
            case "--sigma":
                sigma = OptionValues.nonNegativeNumber(name, v);
                return true;
            case "--test":
                test = OptionValues.positive(name, v);
                return true;
            case "--sigmas":
                String[] parts = v.split(",");
                sigmas = new float[parts.length];
                for (int k = 0; k < parts.length; k++) {
                    sigmas[k] = OptionValues.nonNegativeNumber(name, parts[k]);
                }
                return true;
            case "--iterations":
                iterations = OptionValues.positive(name, v);
                return true;
            case "--steps":
                steps = OptionValues.positive(name, v);
                return true;
            case "--batch-size":
                batchSize = OptionValues.positive(name, v);
                return true;
            case "--lr":
                learningRate = OptionValues.nonNegativeNumber(name, v);
                if (learningRate == 0) {
                    throw new IllegalArgumentException("--lr must be positive, got " + v);
                }
                return true;
            case "--deep-supervision":
                if (!v.equals("true") && !v.equals("false")) {
                    throw new IllegalArgumentException(
                            "--deep-supervision must be true or false, got " + v);
                }
                deepSupervision = Boolean.parseBoolean(v);
                return true;
            case "--low-data":
                lowData = v.equals("none") ? new int[0] : OptionValues.positives(name, v, -1);
                return true;
            case "--layers":
                layers = OptionValues.positives(name, v, 4);
                return true;
            case "--fb-filters":
                fbFilters = OptionValues.positive(name, v);
                return true;
            case "--class-filters":
                classFilters = OptionValues.positive(name, v);
                return true;
            case "--tau":
                tau = OptionValues.nonNegativeNumber(name, v);
                if (tau == 0) {
                    throw new IllegalArgumentException("--tau must be positive, got " + v);
                }
                return true;
            case "--time-exponent":
                timeExponent = OptionValues.nonNegativeNumber(name, v);
                if (timeExponent == 0) {
                    throw new IllegalArgumentException(
                            "--time-exponent must be positive, got " + v);
                }
                return true;
            case "--output":
                output = Paths.get(v);
                return true;
            case "--device":
                device = OptionValues.device(v);
                return true;
            case "--seed":
                seed = OptionValues.seed(v);
                return true;
            default:
                return false;
        }
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
}
