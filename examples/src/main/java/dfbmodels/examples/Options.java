package dfbmodels.examples;

import dfbmodels.models.ResNetStem;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * Command-line options of {@link TrainMnist}; {@link #USAGE} is what {@code --help} prints (the
 * examples' README shows it verbatim, a test keeps them equal). {@link RobustnessOptions} shares
 * the parsing of the data and model options through {@link #set(String, String)}.
 */
public final class Options {

    String dataset = "mnist";
    int epochs = 2;
    int batchSize = 64;
    int iterations = 5;
    int fbFilters = 16;
    ResNetStem stem = ResNetStem.CIFAR;
    int width = 16;
    float tau = 1f;
    int limit = -1;
    int testLimit = -1;
    int maxEvalIterations = 10;
    Path dataDir;
    Path output = Paths.get("build", "mnist");
    String device = "cpu";
    long seed = 42;
    float learningRate = 1e-3f;
    String lrSchedule = "cosine";

    static final String USAGE =
            String.join(
                    "\n",
                    "Usage: TrainMnist [options]",
                    "  --dataset mnist|fashion-mnist  data set (default mnist)",
                    "  --epochs N                     training epochs (default 2)",
                    "  --batch-size N                 batch size, at least 2 (default 64)",
                    "  --iterations T                 feedback iterations while training (default 5)",
                    "  --fb-filters N                 feedback filters, a multiple of 8 (default 16)",
                    "  --stem cifar|imagenet          ResNet stem: cifar (3x3/1, 4x4 state at 28x28) or",
                    "                                 imagenet (torchvision's 7x7/2 + max-pool, 1x1",
                    "                                 state) (default cifar)",
                    "  --width N                      base width: layers of N, 2N, 4N, 8N channels;",
                    "                                 64 is torchvision's ResNet18 (default 16)",
                    "  --tau X                        state decay time constant (default 1)",
                    "  --lr X                         Adam learning rate (default 0.001)",
                    "  --lr-schedule cosine|constant  cosine decay of --lr to 0 over the run (torch's",
                    "                                 CosineAnnealingLR), or a constant --lr",
                    "                                 (default cosine)",
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
        Cli.parse(args, USAGE, o::set);
        return o;
    }

    /**
     * Sets one option.
     *
     * @param name the option, e.g. {@code --epochs}
     * @param v its value
     * @return false if {@code name} is not an option of {@link TrainMnist}
     * @throws IllegalArgumentException naming the option, the value and what is valid
     */
    boolean set(String name, String v) {
        Options o = this;
        switch (name) {
            case "--dataset":
                if (!MnistData.DATASETS.contains(v)) {
                    throw new IllegalArgumentException(
                            "--dataset must be mnist or fashion-mnist, got " + v);
                }
                o.dataset = v;
                break;
            case "--epochs":
                o.epochs = OptionValues.positive(name, v);
                break;
            case "--batch-size":
                o.batchSize = OptionValues.atLeastTwo(name, v);
                break;
            case "--iterations":
                o.iterations = OptionValues.positive(name, v);
                break;
            case "--fb-filters":
                o.fbFilters = OptionValues.positive(name, v);
                if (o.fbFilters % 8 != 0) {
                    throw new IllegalArgumentException(
                            "--fb-filters must be a positive multiple of 8, got " + v);
                }
                break;
            case "--stem":
                if (!v.equals("cifar") && !v.equals("imagenet")) {
                    throw new IllegalArgumentException(
                            "--stem must be cifar or imagenet, got " + v);
                }
                o.stem = ResNetStem.valueOf(v.toUpperCase(Locale.ROOT));
                break;
            case "--width":
                o.width = OptionValues.positive(name, v);
                break;
            case "--tau":
                o.tau = OptionValues.positiveNumber(name, v);
                break;
            case "--lr":
                o.learningRate = OptionValues.positiveNumber(name, v);
                break;
            case "--lr-schedule":
                if (!v.equals("cosine") && !v.equals("constant")) {
                    throw new IllegalArgumentException(
                            "--lr-schedule must be constant or cosine, got " + v);
                }
                o.lrSchedule = v;
                break;
            case "--limit":
                o.limit = OptionValues.atLeastTwo(name, v);
                break;
            case "--test-limit":
                o.testLimit = OptionValues.positive(name, v);
                break;
            case "--max-eval-iterations":
                o.maxEvalIterations = OptionValues.positive(name, v);
                break;
            case "--data-dir":
                o.dataDir = Paths.get(v);
                break;
            case "--output":
                o.output = Paths.get(v);
                break;
            case "--device":
                o.device = OptionValues.device(v);
                break;
            case "--seed":
                o.seed = OptionValues.seed(v);
                break;
            default:
                return false;
        }
        return true;
    }

    /**
     * The feedback ResNet18 these options describe: 1 input channel, 10 classes, {@code --stem},
     * {@code --width}, {@code --fb-filters}, {@code --tau}, {@code --iterations}.
     *
     * @param feedback false for the feedforward twin
     * @return the builder, ready to build
     */
    dfbmodels.models.FeedbackResNet.Builder model(boolean feedback) {
        return dfbmodels.models.ResNet18.builder()
                .setNumClasses(10)
                .optInChannels(1)
                .optStem(stem)
                .optWidth(width)
                .optFbFilters(fbFilters)
                .optTau(tau)
                .optIterations(iterations)
                .optFeedback(feedback);
    }
}
