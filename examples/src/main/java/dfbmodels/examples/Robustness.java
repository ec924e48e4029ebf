package dfbmodels.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.SequenceSampler;
import ai.djl.training.util.ProgressBar;
import ai.djl.translate.TranslateException;
import dfbmodels.FeedbackBlock;
import dfbmodels.eval.ConvergenceTrace;
import dfbmodels.eval.Corruption;
import dfbmodels.eval.RobustnessEvaluation;
import dfbmodels.eval.RobustnessTable;
import dfbmodels.io.TorchNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the feedback buys: trains a feedback ResNet18 and its feedforward twin ({@code
 * optFeedback(false)}: the same parameters under the same names, one step) on the same data, with
 * the same epochs, optimiser, seed and initial weights, then measures the test accuracy of both
 * under corruption for several T, and traces how the feedback model's state converges.
 *
 * <ul>
 *   <li>{@code robustness.csv}: {@code model, corruption, level, iterations, accuracy}; the
 *       feedback model for every T of {@code --iterations}, the twin for T = 1 (it runs one step
 *       whatever T). Corruptions: Gaussian noise at {@code --sigmas}, salt-and-pepper at fractions
 *       0.05, 0.1, 0.2, Gaussian blur at sigma 0.5, 1, 1.5 px, contrast at factors 0.5, 0.3, 0.1;
 *   <li>{@code robustness.png}: accuracy vs. level, one panel per corruption, one line per model
 *       and T;
 *   <li>{@code convergence.png}: {@link ConvergenceTrace} of 20 steps for 4 test images.
 * </ul>
 *
 * <p>Both models run with early stop off ({@code atol = 0}), so T is the number of steps run.
 *
 * <pre>
 *   mvn -q exec:java -Dmain.class=dfbmodels.examples.Robustness \
 *       -Dexec.args="--data-dir /usr/share/datasets/fashion-mnist --limit 6000 --test-limit 1000"
 * </pre>
 */
public final class Robustness {

    /** The salt-and-pepper fractions evaluated. */
    static final float[] SALT_AND_PEPPER = {0.05f, 0.1f, 0.2f};

    /** The blur sigmas evaluated, in pixels. */
    static final float[] BLUR = {0.5f, 1f, 1.5f};

    /** The contrast factors evaluated (1 would be unchanged). */
    static final float[] CONTRAST = {0.5f, 0.3f, 0.1f};

    private Robustness() {}

    /** What a run produced. */
    public static final class Result {
        /** Every cell of the evaluation, both models. */
        public RobustnessTable table;

        /** The convergence traces, one per image. */
        public List<ConvergenceTrace> traces;

        /** {@code robustness.csv}. */
        public Path csv;

        /** {@code robustness.png}. */
        public Path robustnessChart;

        /** {@code convergence.png}. */
        public Path convergenceChart;

        /** Training time of both models, seconds. */
        public double trainSeconds;

        /** Evaluation time of both models, seconds. */
        public double evaluationSeconds;
    }

    /**
     * Runs the program.
     *
     * @param args see {@code --help}
     * @throws Exception if training fails
     */
    public static void main(String[] args) throws Exception {
        Cli.main(
                args,
                RobustnessOptions::parse,
                options -> {
                    Result r = run(options);
                    System.out.println(summary(r.table, options));
                    System.out.printf(
                            "training %.0f s, evaluation %.0f s; %s, %s, %s%n",
                            r.trainSeconds,
                            r.evaluationSeconds,
                            r.csv,
                            r.robustnessChart,
                            r.convergenceChart);
                });
    }

    /**
     * Trains both models, evaluates them and writes the table and charts.
     *
     * @param ro the options
     * @return the results
     * @throws IOException if data or output cannot be accessed
     * @throws TranslateException if a batch cannot be processed
     * @throws IllegalArgumentException with {@code --device gpu} where LibTorch sees no GPU
     */
    public static Result run(RobustnessOptions ro) throws IOException, TranslateException {
        Options o = ro.base;
        Device device = OptionValues.runtimeDevice(o.device);
        // the evaluation is built first: invalid levels fail before any training
        RobustnessEvaluation evaluation =
                RobustnessEvaluation.builder()
                        .addCorruption(Corruption.gaussianNoise(o.seed), ro.sigmas)
                        .addCorruption(Corruption.saltAndPepper(o.seed), SALT_AND_PEPPER)
                        .addCorruption(Corruption.gaussianBlur(), BLUR)
                        .addCorruption(Corruption.contrast(), CONTRAST)
                        .setIterations(ro.iterations)
                        .optProgress(new ProgressBar())
                        .build();
        Engine.getInstance().setRandomSeed((int) o.seed);
        FeedbackBlock feedback = o.model(true).optAtol(0f).build();
        FeedbackBlock twin = o.model(false).optAtol(0f).build();
        Result result = new Result();
        try (Model feedbackModel = Model.newInstance("dfm-resnet18", device);
                Model twinModel = Model.newInstance("ff-resnet18", device)) {
            feedbackModel.setBlock(feedback);
            twinModel.setBlock(twin);
            NDManager manager = feedbackModel.getNDManager();
            RandomAccessDataset train = MnistData.load(o, manager, Dataset.Usage.TRAIN);
            RandomAccessDataset test = MnistData.load(o, manager, Dataset.Usage.TEST);
            Files.createDirectories(o.output);

            Shape input = new Shape(o.batchSize, 1, 28, 28);
            feedback.initialize(feedbackModel.getNDManager(), DataType.FLOAT32, input);
            twin.initialize(twinModel.getNDManager(), DataType.FLOAT32, input);
            copyParameters(feedback, twin);

            long start = System.nanoTime();
            train(feedbackModel, o, device, input, train);
            train(twinModel, o, device, input, train);
            result.trainSeconds = (System.nanoTime() - start) / 1e9;

            start = System.nanoTime();
            RobustnessTable table = evaluation.evaluate("feedback", feedback, test);
            table.addAll(evaluation.evaluate("feedforward", twin, test));
            result.evaluationSeconds = (System.nanoTime() - start) / 1e9;
            result.table = table;
            result.csv = o.output.resolve("robustness.csv");
            table.writeCsv(result.csv);
            result.robustnessChart = o.output.resolve("robustness.png");
            RobustnessCharts.accuracy(result.robustnessChart, table);

            result.traces = traces(feedback, manager, test, ro);
            result.convergenceChart = o.output.resolve("convergence.png");
            RobustnessCharts.convergence(result.convergenceChart, result.traces);
        }
        return result;
    }

    /**
     * Gives the twin the feedback model's initial weights: every parameter, by its torchvision name
     * (both have the same names and shapes).
     */
    static void copyParameters(FeedbackBlock from, FeedbackBlock to) {
        Map<String, Parameter> source = TorchNames.of(from);
        Map<String, Parameter> target = TorchNames.of(to);
        if (!source.keySet().equals(target.keySet())) {
            throw new IllegalStateException(
                    "the twin's parameters differ from the feedback model's: "
                            + target.keySet()
                            + " vs "
                            + source.keySet());
        }
        for (Map.Entry<String, Parameter> p : source.entrySet()) {
            NDArray value = p.getValue().getArray();
            NDArray into = target.get(p.getKey()).getArray();
            if (!value.getShape().equals(into.getShape())) {
                throw new IllegalStateException(
                        p.getKey() + ": " + value.getShape() + " vs " + into.getShape());
            }
            into.set(value.toByteBuffer());
        }
    }

    /** Trains one model; the seed is reset first, so both models see the same batches. */
    private static void train(
            Model model, Options o, Device device, Shape input, RandomAccessDataset train)
            throws IOException, TranslateException {
        Engine.getInstance().setRandomSeed((int) o.seed);
        try (Trainer trainer = model.newTrainer(TrainMnist.config(o, device, train.size()))) {
            trainer.setMetrics(new Metrics());
            // the parameters are initialised already: this keeps them
            trainer.initialize(input);
            EasyTrain.fit(trainer, o.epochs, train, null);
        }
    }

    /** A 20-step trace of the feedback model for each of the first test images. */
    private static List<ConvergenceTrace> traces(
            FeedbackBlock model, NDManager manager, RandomAccessDataset test, RobustnessOptions ro)
            throws IOException, TranslateException {
        List<ConvergenceTrace> traces = new ArrayList<>();
        int n = (int) Math.min(ro.convergenceImages, test.size());
        try (NDManager scope = manager.newSubManager()) {
            BatchSampler first = new BatchSampler(new SequenceSampler(), n);
            try (Batch batch = test.getData(scope, first).iterator().next()) {
                NDArray x = batch.getData().head();
                for (int i = 0; i < n; i++) {
                    NDArray image = x.get(i).expandDims(0);
                    traces.add(ConvergenceTrace.of(model, image, ro.convergenceSteps));
                }
            }
        }
        return traces;
    }

    /**
     * The Gaussian-noise rows as a small text table: accuracy of the twin and of the feedback model
     * at each T, per sigma.
     *
     * @param table the evaluation
     * @param ro the options
     * @return the text
     */
    static String summary(RobustnessTable table, RobustnessOptions ro) {
        StringBuilder sb = new StringBuilder("Gaussian noise: test accuracy\nsigma  feedforward");
        for (int t : ro.iterations) {
            sb.append(String.format(Locale.ROOT, "  fb T=%-3d", t));
        }
        sb.append('\n');
        for (float s : ro.sigmas) {
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "%-5s  %-11.4f",
                            s,
                            table.get("feedforward", "gaussian_noise", s, 1)));
            for (int t : ro.iterations) {
                sb.append(
                        String.format(
                                Locale.ROOT,
                                "  %-8.4f",
                                table.get("feedback", "gaussian_noise", s, t)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
