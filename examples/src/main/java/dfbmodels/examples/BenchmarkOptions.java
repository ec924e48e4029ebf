package dfbmodels.examples;

import ai.djl.ndarray.types.Shape;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.DeepLabV3Plus;
import dfbmodels.models.FeedbackModelBuilder;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNet34;
import dfbmodels.models.ResNet50;
import dfbmodels.models.UNet;
import dfbmodels.models.VisionTransformer;
import java.util.List;

/**
 * Command-line options of {@link Benchmark} and {@link PredictorBenchmark}; {@link #USAGE} is what
 * {@code --help} prints (the examples' README shows it verbatim, a test keeps them equal).
 */
final class BenchmarkOptions {

    static final List<String> MODELS =
            List.of(
                    "resnet18",
                    "resnet34",
                    "resnet50",
                    "deeplabv3plus",
                    "unet",
                    "vit-tiny",
                    "vit-small");

    static final String USAGE =
            String.join(
                    "\n",
                    "Usage: Benchmark [options]",
                    "  --model NAME                   resnet18|resnet34|resnet50|deeplabv3plus|unet|",
                    "                                 vit-tiny|vit-small (default resnet18)",
                    "  --size N                       input height and width (default 32)",
                    "  --height N                     input height (default 32)",
                    "  --width N                      input width (default 32)",
                    "  --batch N                      batch size (default 32)",
                    "  --device cpu|gpu               (default cpu)",
                    "  --iterations T,...             feedback iterations to measure (default 1,5)",
                    "  --warmup N                     untimed runs first, N >= 0 (default 2)",
                    "  --repeats N                    timed runs, whose median is reported",
                    "                                 (default 5)",
                    "  --fb-filters N                 feedback filters, as the model allows (a bad",
                    "                                 value is named with the valid ones) (default:",
                    "                                 the model's)",
                    "  --classes N                    classes (default 10)",
                    "  --profile true|false           also compare wall time with LibTorch's",
                    "                                 operator time (default false)",
                    "  --uniform-shortcut true|false  the state operator's uniform shortcut",
                    "                                 (default true)");

    String model = "resnet18";
    int height = 32;
    int width = 32;
    int batch = 32;
    String device = "cpu";
    int[] iterations = {1, 5};
    int warmup = 2;
    int repeats = 5;
    int fb = -1;
    int classes = 10;
    boolean profile;
    boolean uniformShortcut = true;

    /** Which measurement a child JVM makes, e.g. {@code train:5}; set by {@link Benchmark}. */
    String child;

    private List<String> models = MODELS;

    /**
     * Parses command-line arguments.
     *
     * @param args the arguments
     * @return the options
     * @throws Cli.HelpRequested for {@code --help} or {@code -h}
     * @throws IllegalArgumentException naming the bad option, its value and what is valid
     */
    static BenchmarkOptions parse(String... args) {
        return parse(USAGE, MODELS, args);
    }

    /**
     * Parses the options that {@code usage} lists, for one of {@code models}.
     *
     * @param usage a program's usage, one option per line as {@code " --name VALUE text"}
     * @param models the models it measures
     * @param args the arguments
     * @return the options
     * @throws Cli.HelpRequested for {@code --help} or {@code -h}
     * @throws IllegalArgumentException naming the bad option, its value and what is valid
     */
    static BenchmarkOptions parse(String usage, List<String> models, String... args) {
        BenchmarkOptions c = new BenchmarkOptions();
        c.models = models;
        Cli.parse(
                args,
                usage,
                (name, v) ->
                        (name.equals("--child") && usage.equals(USAGE)
                                        || usage.contains("\n  " + name + " "))
                                && c.set(name, v));
        try {
            // the model's own checks (e.g. fbFilters against its GroupNorm groups), here rather
            // than in a child JVM's stack trace; building allocates no arrays
            c.build(1).checkInput(new Shape(c.batch, 3, c.height, c.width));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--model " + c.model + " cannot be built with these options: " + e.getMessage(),
                    e);
        }
        return c;
    }

    private boolean set(String name, String v) {
        switch (name) {
            case "--model":
                if (!models.contains(v)) {
                    throw new IllegalArgumentException(
                            "--model must be one of " + String.join(", ", models) + ", got " + v);
                }
                model = v;
                return true;
            case "--size":
                height = OptionValues.positive(name, v);
                width = height;
                return true;
            case "--height":
                height = OptionValues.positive(name, v);
                return true;
            case "--width":
                width = OptionValues.positive(name, v);
                return true;
            case "--batch":
                batch = OptionValues.positive(name, v);
                return true;
            case "--device":
                device = OptionValues.device(v);
                return true;
            case "--iterations":
                iterations = OptionValues.iterations(v);
                return true;
            case "--warmup":
                warmup = OptionValues.nonNegative(name, v);
                return true;
            case "--repeats":
                repeats = OptionValues.positive(name, v);
                return true;
            case "--fb-filters":
                fb = OptionValues.positive(name, v);
                return true;
            case "--classes":
                classes = OptionValues.positive(name, v);
                if (classes < 2) {
                    throw new IllegalArgumentException(
                            "--classes must be at least 2 (softmax cross-entropy over one class has"
                                    + " no gradient), got "
                                    + v);
                }
                return true;
            case "--profile":
                profile = OptionValues.bool(name, v);
                return true;
            case "--uniform-shortcut":
                uniformShortcut = OptionValues.bool(name, v);
                return true;
            case "--child":
                if (!v.matches(
                        "(backbone-train|backbone-infer|train|infer|share|profile):[0-9]+")) {
                    throw new IllegalArgumentException(
                            "--child is Benchmark's own (a measurement of a child JVM, e.g."
                                    + " train:5), got "
                                    + v);
                }
                child = v;
                return true;
            default:
                return false;
        }
    }

    boolean segmentation() {
        return model.equals("deeplabv3plus") || model.equals("unet");
    }

    /**
     * The model these options describe, with early stop off so that every step is timed.
     *
     * @param t the feedback iterations
     * @return the model, uninitialised
     */
    FeedbackBlock build(int t) {
        FeedbackModelBuilder<?> builder;
        switch (model) {
            case "resnet18":
                builder = ResNet18.builder();
                break;
            case "resnet34":
                builder = ResNet34.builder();
                break;
            case "resnet50":
                builder = ResNet50.builder();
                break;
            case "deeplabv3plus":
                builder = DeepLabV3Plus.builder();
                break;
            case "unet":
                builder = UNet.builder();
                break;
            default:
                // image size = the input's; patch 16 from 224x224 up, 4 below
                builder =
                        (model.equals("vit-tiny")
                                        ? VisionTransformer.tiny()
                                        : VisionTransformer.small())
                                .optImageSize(height)
                                .optPatchSize(
                                        height >= 224
                                                ? VisionTransformer.PATCH_SIZE
                                                : VisionTransformer.SMALL_IMAGE_PATCH_SIZE);
        }
        if (fb > 0) {
            builder.optFbFilters(fb);
        }
        return builder.setNumClasses(classes)
                .optIterations(t)
                .optAtol(0f)
                .optUniformShortcut(uniformShortcut)
                .build();
    }
}
