package dfbmodels.examples;

import java.nio.file.Paths;
import java.util.Set;

/**
 * Command-line options of {@link Robustness}: the data and model options of {@link Options} (parsed
 * there), plus the evaluation's lists. {@link #USAGE} is what {@code --help} prints (the examples'
 * README shows it verbatim, a test keeps them equal).
 */
public final class RobustnessOptions {

    /** The options {@link Robustness} takes from {@link Options}, with their meaning there. */
    private static final Set<String> SHARED =
            Set.of(
                    "--dataset",
                    "--data-dir",
                    "--epochs",
                    "--batch-size",
                    "--limit",
                    "--test-limit",
                    "--output",
                    "--seed",
                    "--stem",
                    "--width",
                    "--fb-filters",
                    "--tau",
                    "--lr",
                    "--lr-schedule",
                    "--device");

    /** The data, model and training options; {@code iterations} is the training T. */
    final Options base = new Options();

    float[] sigmas = {0f, 0.1f, 0.2f, 0.3f, 0.5f, 0.8f};
    int[] iterations = {1, 2, 3, 5, 8, 10};
    int convergenceImages = 4;
    int convergenceSteps = 20;

    static final String USAGE =
            String.join(
                    "\n",
                    "Usage: Robustness [options]",
                    "  --dataset mnist|fashion-mnist  data set (default fashion-mnist)",
                    "  --data-dir DIR                 a folder of the four IDX files (see TrainMnist);",
                    "                                 default: DJL downloads",
                    "  --epochs N                     training epochs of each model (default 2)",
                    "  --batch-size N                 batch size, at least 2 (default 64)",
                    "  --limit N                      train on the first N images only (N >= 2)",
                    "  --test-limit N                 evaluate on the first N test images only",
                    "  --sigmas S1,S2,...             Gaussian noise sigmas, each in [0, 10]",
                    "                                 (default 0,0.1,0.2,0.3,0.5,0.8)",
                    "  --iterations T1,T2,...         T at evaluation, each in 1..100",
                    "                                 (default 1,2,3,5,8,10)",
                    "  --train-iterations T           feedback iterations while training (default 5)",
                    "  --stem cifar|imagenet          ResNet stem (default cifar)",
                    "  --width N                      base width (default 16)",
                    "  --fb-filters N                 feedback filters, a multiple of 8 (default 16)",
                    "  --tau X                        state decay time constant (default 1)",
                    "  --lr X                         Adam learning rate (default 0.001)",
                    "  --lr-schedule cosine|constant  cosine decay of --lr to 0 over the run (torch's",
                    "                                 CosineAnnealingLR), or a constant --lr",
                    "                                 (default cosine)",
                    "  --output DIR                   robustness.csv, robustness.png, convergence.png",
                    "                                 (default build/robustness)",
                    "  --device cpu|gpu               (default cpu)",
                    "  --seed N                       random seed of data order, weights and noise",
                    "                                 (default 42)");

    RobustnessOptions() {
        base.dataset = "fashion-mnist";
        base.output = Paths.get("build", "robustness");
    }

    /**
     * Parses command-line arguments.
     *
     * @param args the arguments
     * @return the options
     * @throws IllegalArgumentException naming the bad option, its value and what is valid; with
     *     {@code --help}, the usage
     */
    public static RobustnessOptions parse(String... args) {
        RobustnessOptions o = new RobustnessOptions();
        Cli.parse(args, USAGE, o::set);
        return o;
    }

    private boolean set(String name, String v) {
        switch (name) {
            case "--sigmas":
                sigmas = sigmas(v);
                return true;
            case "--iterations":
                iterations = OptionValues.iterations(v);
                return true;
            case "--train-iterations":
                base.iterations = OptionValues.positive(name, v);
                return true;
            default:
                return SHARED.contains(name) && base.set(name, v);
        }
    }

    private static float[] sigmas(String v) {
        String[] parts = v.split(",", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            float s;
            try {
                s = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                s = Float.NaN;
            }
            if (!(s >= 0 && s <= 10)) {
                throw new IllegalArgumentException(
                        "--sigmas must be a comma-separated list of numbers in [0, 10], got "
                                + v
                                + " ("
                                + parts[i]
                                + ")");
            }
            out[i] = s;
        }
        return out;
    }
}
