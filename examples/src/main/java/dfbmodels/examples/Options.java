package dfbmodels.examples;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Command-line options of {@link TrainMnist}; {@link #USAGE} is what {@code --help} prints (the
 * examples' README shows it verbatim, a test keeps them equal).
 */
public final class Options {

    String dataset = "mnist";
    int epochs = 3;
    int batchSize = 64;
    int iterations = 5;
    int fbFilters = 16;
    float tau = 1f;
    int limit = -1;
    int testLimit = -1;
    int maxEvalIterations = 10;
    Path dataDir;
    Path output = Paths.get("build", "mnist");
    String device = "cpu";
    long seed = 42;
    float learningRate = 1e-3f;

    static final String USAGE =
            String.join(
                    "\n",
                    "Usage: TrainMnist [options]",
                    "  --dataset mnist|fashion-mnist  data set (default mnist)",
                    "  --epochs N                     training epochs (default 3)",
                    "  --batch-size N                 batch size, at least 2 (default 64)",
                    "  --iterations T                 feedback iterations while training (default 5)",
                    "  --fb-filters N                 feedback filters, a multiple of 8 (default 16)",
                    "  --tau X                        state decay time constant (default 1)",
                    "  --lr X                         Adam learning rate (default 0.001)",
                    "  --limit N                      train on the first N images only (N >= 2)",
                    "  --test-limit N                 evaluate on the first N test images only",
                    "  --max-eval-iterations N        test accuracy for T = 1..N (default 10)",
                    "  --data-dir DIR                 a folder of the four IDX files, read in place:",
                    "                                 train-images-idx3-ubyte, train-labels-idx1-ubyte,",
                    "                                 t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte",
                    "                                 (each NAME.gz or NAME); default: DJL downloads",
                    "  --output DIR                   parameters and chart (default build/mnist)",
                    "  --device cpu|gpu               (default cpu)",
                    "  --seed N                       random seed (default 42)");

    /**
     * Parses command-line arguments.
     *
     * @param args the arguments
     * @return the options
     * @throws IllegalArgumentException naming the bad option and what is valid
     */
    public static Options parse(String... args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if ("--help".equals(name) || "-h".equals(name)) {
                throw new IllegalArgumentException(USAGE);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + name + " needs a value\n" + USAGE);
            }
            String v = args[++i];
            switch (name) {
                case "--dataset":
                    if (!MnistData.DATASETS.contains(v)) {
                        throw new IllegalArgumentException(
                                "--dataset must be mnist or fashion-mnist, got " + v);
                    }
                    o.dataset = v;
                    break;
                case "--epochs":
                    o.epochs = positive(name, v);
                    break;
                case "--batch-size":
                    o.batchSize = atLeastTwo(name, v);
                    break;
                case "--iterations":
                    o.iterations = positive(name, v);
                    break;
                case "--fb-filters":
                    o.fbFilters = positive(name, v);
                    if (o.fbFilters % 8 != 0) {
                        throw new IllegalArgumentException(
                                "--fb-filters must be a positive multiple of 8, got " + v);
                    }
                    break;
                case "--tau":
                    o.tau = positiveNumber(name, v);
                    break;
                case "--lr":
                    o.learningRate = positiveNumber(name, v);
                    break;
                case "--limit":
                    o.limit = atLeastTwo(name, v);
                    break;
                case "--test-limit":
                    o.testLimit = positive(name, v);
                    break;
                case "--max-eval-iterations":
                    o.maxEvalIterations = positive(name, v);
                    break;
                case "--data-dir":
                    o.dataDir = Paths.get(v);
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
        return o;
    }

    /** Batch normalisation cannot train on a batch of one image. */
    private static int atLeastTwo(String name, String value) {
        int n = positive(name, value);
        if (n < 2) {
            throw new IllegalArgumentException(
                    name
                            + " must be at least 2 (batch normalisation cannot train on a batch of"
                            + " one image), got "
                            + value);
        }
        return n;
    }

    private static float positiveNumber(String name, String value) {
        float x;
        try {
            x = Float.parseFloat(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a positive number, got " + value);
        }
        if (!(x > 0) || Float.isInfinite(x)) {
            throw new IllegalArgumentException(name + " must be a positive number, got " + value);
        }
        return x;
    }

    private static int positive(String name, String value) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + value);
        }
        if (n < 1) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + value);
        }
        return n;
    }
}
