package dfbmodels.examples;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.TranslateException;
import dfbmodels.FeedbackBlock;
import dfbmodels.translate.FeedbackTranslators;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Inference as users run it: a DJL {@link Predictor} with the library's classification translator
 * ({@link FeedbackTranslators#classification}: resize, {@code ToTensor}, forward, softmax) on RGB
 * {@link Image}s, one call per image ({@code --batch 1}, {@code predict}) or per batch ({@code
 * batchPredict}). Prints one line {@code RESULT ms=<p50> p50= p99= min= max= ips= rss=}: latency
 * per call in milliseconds (p99 by nearest rank over {@code --repeats} calls after {@code
 * --warmup}) and images per second over all timed calls.
 *
 * <pre>
 *   java -cp ... dfbmodels.examples.PredictorBenchmark --model resnet18 --size 32 --batch 32 \
 *       --iterations 5 --warmup 5 --repeats 50
 * </pre>
 *
 * <p>Options ({@link #USAGE}) are {@link Benchmark}'s but {@code --device} and {@code --profile},
 * for the classifiers; {@code --iterations T} uses the first of a list. The model has random
 * weights (seed 0): the time does not depend on them. Used by {@code tools/side_by_side.py}; see
 * docs/performance.md.
 */
public final class PredictorBenchmark {

    private PredictorBenchmark() {}

    /**
     * Runs the measurement, in the examples' command-line frame ({@link Cli}): a bad option or a
     * segmentation model (this measures classifiers) exits with status 2, naming it.
     *
     * @param args see the class documentation
     * @throws java.io.IOException if {@code /proc/self/status} cannot be read
     * @throws TranslateException if a prediction fails
     */
    public static void main(String[] args) throws Exception {
        Cli.main(args, PredictorBenchmark::parse, PredictorBenchmark::run);
    }

    /** The classifiers: a {@link Predictor} with a classification translator measures those. */
    static final List<String> MODELS =
            List.of("resnet18", "resnet34", "resnet50", "vit-tiny", "vit-small");

    static final String USAGE =
            String.join(
                    "\n",
                    "Usage: PredictorBenchmark [options]",
                    "  --model NAME                   resnet18|resnet34|resnet50|vit-tiny|vit-small",
                    "                                 (default resnet18)",
                    "  --size N                       input height and width (default 32)",
                    "  --height N                     input height (default 32)",
                    "  --width N                      input width (default 32)",
                    "  --batch N                      images per call: 1 with predict, more with",
                    "                                 batchPredict (default 32)",
                    "  --iterations T                 feedback iterations (the first of a list)",
                    "                                 (default 1)",
                    "  --warmup N                     untimed calls first, N >= 0 (default 2)",
                    "  --repeats N                    timed calls (default 5)",
                    "  --fb-filters N                 feedback filters, as the model allows (a bad",
                    "                                 value is named with the valid ones) (default:",
                    "                                 the model's)",
                    "  --classes N                    classes (default 10)",
                    "  --uniform-shortcut true|false  the state operator's uniform shortcut",
                    "                                 (default true)");

    static BenchmarkOptions parse(String... args) {
        return BenchmarkOptions.parse(USAGE, MODELS, args);
    }

    private static void run(BenchmarkOptions c) throws Exception {
        Engine.getInstance().setRandomSeed(0);
        int t = c.iterations[0];
        FeedbackBlock block = c.build(t);
        List<String> classes = new ArrayList<>();
        for (int i = 0; i < c.classes; i++) {
            classes.add("class " + i);
        }
        List<Image> images = images(c.batch, c.height, c.width);
        try (Model model = Model.newInstance("predictor-benchmark")) {
            model.setBlock(block);
            block.initialize(
                    model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, c.height, c.width));
            try (Predictor<Image, Classifications> predictor =
                    model.newPredictor(
                            FeedbackTranslators.classification(classes, 3, c.height, c.width))) {
                for (int i = 0; i < c.warmup; i++) {
                    call(predictor, images);
                }
                double[] ms = new double[c.repeats];
                for (int i = 0; i < ms.length; i++) {
                    long t0 = System.nanoTime();
                    call(predictor, images);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                System.out.println(result(ms, c.batch) + " rss=" + Benchmark.peakRssMb());
            }
        }
    }

    /**
     * The result line's timing fields for per-call latencies.
     *
     * @param ms the latency of every timed call, in milliseconds (reordered)
     * @param batch images per call
     * @return {@code RESULT ms= p50= p99= min= max= ips=}
     */
    static String result(double[] ms, int batch) {
        Arrays.sort(ms);
        double total = Arrays.stream(ms).sum();
        double p50 = ms[(int) Math.ceil(0.50 * ms.length) - 1];
        double p99 = ms[(int) Math.ceil(0.99 * ms.length) - 1];
        return String.format(
                Locale.ROOT,
                "RESULT ms=%.3f p50=%.3f p99=%.3f min=%.3f max=%.3f ips=%.2f",
                p50,
                p50,
                p99,
                ms[0],
                ms[ms.length - 1],
                batch * ms.length * 1000 / total);
    }

    private static void call(Predictor<Image, Classifications> predictor, List<Image> images)
            throws TranslateException {
        if (images.size() == 1) {
            predictor.predict(images.get(0)).best();
        } else {
            predictor.batchPredict(images).forEach(Classifications::best);
        }
    }

    /** Seeded random RGB images, as a camera would hand them over. */
    private static List<Image> images(int n, int height, int width) {
        Random random = new Random(0);
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage b = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    b.setRGB(x, y, random.nextInt(1 << 24));
                }
            }
            images.add(ImageFactory.getInstance().fromImage(b));
        }
        return images;
    }
}
