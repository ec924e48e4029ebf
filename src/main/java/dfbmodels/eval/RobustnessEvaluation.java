package dfbmodels.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.evaluator.Evaluator;
import ai.djl.translate.Transform;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import ai.djl.util.Progress;
import dfbmodels.FeedbackBlock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Measures what the feedback buys under corruption: the metric of a model on a test set for every
 * corruption, level and number of iterations T.
 *
 * <pre>
 *   RobustnessEvaluation evaluation =
 *           RobustnessEvaluation.builder()
 *                   .addCorruption(Corruption.none(), 0)
 *                   .addCorruption(Corruption.gaussianNoise(42), 0.1f, 0.2f, 0.4f)
 *                   .addCorruption(Corruption.gaussianBlur(), 1f, 2f)
 *                   .setIterations(1, 2, 5, 10)
 *                   .optProgress(new ProgressBar())
 *                   .build();
 *   RobustnessTable table = evaluation.evaluate("feedback", model, testSet);
 *   table.addAll(evaluation.evaluate("feedforward", twin, testSet));
 *   table.writeCsv(Paths.get("robustness.csv"));
 * </pre>
 *
 * <p>The metric is any DJL {@link Evaluator} (default {@link Accuracy}: classification accuracy on
 * {@code (B, classes)} logits and {@code (B)} labels); for segmenters pass a mean-IoU evaluator, or
 * {@code new Accuracy("pixel_accuracy", 1)} for pixel accuracy on {@code (B, classes, H, W)} logits
 * and {@code (B, H, W)} labels. The evaluator gets one accumulator per cell.
 *
 * <p>How it runs: one pass over the test set. Each batch is corrupted once per corruption and
 * level, on the device the dataset gives it (the noise corruptions are keyed by image content, so
 * the corrupted set is the same for every model: see {@link GaussianNoise}), moved to the model's
 * device and data type, and run through <em>one</em> inference forward for the largest T with
 * {@link FeedbackBlock#RETURN_STATES}; the prediction at each smaller T is the readout of the state
 * after T steps, which is what a forward with that T computes (in inference every step's
 * computation is the same whatever T, and an early stop at step {@code k} ends runs of every T
 * {@code > k} in the same state; with a Gaussian initial state, all T of a batch share one draw). T
 * = 0 takes its own forward. A feedforward twin ({@link FeedbackBlock#isFeedback()} false) runs one
 * step whatever T, so it is evaluated once per corruption and level and reported with {@code
 * iterations = 1} only. Labels are not corrupted.
 */
public final class RobustnessEvaluation {

    private final List<Corruption> corruptions;
    private final List<float[]> levels;
    private final List<Transform[]> transforms;
    private final int[] iterations;
    private final Evaluator evaluator;
    private final String metric;
    private final Progress progress;

    private RobustnessEvaluation(Builder b) {
        corruptions = new ArrayList<>(b.corruptions);
        levels = new ArrayList<>(b.levels);
        transforms = new ArrayList<>(b.transforms);
        iterations = b.iterations.clone();
        evaluator = b.evaluator;
        metric = b.metric != null ? b.metric : RobustnessTable.columnName(evaluator.getName());
        progress = b.progress;
    }

    /**
     * Returns a new builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Evaluates one model: one row per corruption, level and T (a feedforward twin: T = 1 only), in
     * the order they were added.
     *
     * @param name the model's name in the table, e.g. {@code feedback}
     * @param model an initialised (trained) feedback model
     * @param testSet the test set: batches of images {@code (B, C, H, W)} in [0, 1] and labels the
     *     evaluator understands
     * @return the table
     * @throws IllegalArgumentException if the name is empty or the model is not initialised
     * @throws IOException if the dataset cannot be read
     * @throws TranslateException if the dataset's pipeline fails
     */
    public RobustnessTable evaluate(String name, FeedbackBlock model, Dataset testSet)
            throws IOException, TranslateException {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("model name must not be empty, got " + name);
        }
        NDArray reference = firstParameter(model);
        Device device = reference.getDevice();
        DataType type = reference.getDataType();
        int[] steps = model.isFeedback() ? iterations : new int[] {1};
        int maxSteps = 0;
        for (int t : steps) {
            maxSteps = Math.max(maxSteps, t);
        }
        String[][][] keys = new String[corruptions.size()][][];
        for (int c = 0; c < keys.length; c++) {
            keys[c] = new String[levels.get(c).length][steps.length];
            for (int l = 0; l < keys[c].length; l++) {
                for (int i = 0; i < steps.length; i++) {
                    keys[c][l][i] = "robustness/" + name + "/" + c + "/" + l + "/T=" + steps[i];
                    evaluator.addAccumulator(keys[c][l][i]);
                }
            }
        }
        boolean started = false;
        try (NDManager manager = NDManager.newBaseManager(device)) {
            ParameterStore ps = new ParameterStore(manager, false);
            for (Batch batch : testSet.getData(manager)) {
                try (Batch b = batch) {
                    if (progress != null && !started) {
                        // the model's name alone: DJL's bar cuts labels past 12 characters
                        progress.reset(name, Math.max(b.getProgressTotal(), 1));
                        progress.start(0);
                        started = true;
                    }
                    evaluateBatch(model, ps, b, device, type, steps, maxSteps, keys);
                    if (progress != null) {
                        progress.increment(b.getSize());
                    }
                }
            }
        }
        if (progress != null && started) {
            progress.end();
        }
        RobustnessTable table = new RobustnessTable(metric);
        for (int c = 0; c < keys.length; c++) {
            for (int l = 0; l < keys[c].length; l++) {
                for (int i = 0; i < steps.length; i++) {
                    table.add(
                            new RobustnessTable.Row(
                                    name,
                                    corruptions.get(c).getName(),
                                    levels.get(c)[l],
                                    steps[i],
                                    evaluator.getAccumulator(keys[c][l][i])));
                }
            }
        }
        return table;
    }

    private void evaluateBatch(
            FeedbackBlock model,
            ParameterStore ps,
            Batch batch,
            Device device,
            DataType type,
            int[] steps,
            int maxSteps,
            String[][][] keys) {
        NDArray x = batch.getData().head();
        NDList labels = batch.getLabels();
        for (int c = 0; c < keys.length; c++) {
            for (int l = 0; l < keys[c].length; l++) {
                // everything of one level (corrupted copy, forward, metric) is freed after it
                try (NDManager scope = batch.getManager().newSubManager(x.getDevice())) {
                    scope.tempAttachAll(x);
                    scope.tempAttachAll(labels);
                    NDArray corrupted = transforms.get(c)[l].transform(x);
                    NDArray input = corrupted.toDevice(device, false).toType(type, false);
                    NDList deviceLabels = labels.toDevice(device, false);
                    NDList out = null;
                    if (maxSteps > 0) {
                        out = model.forward(ps, new NDList(input), false, params(maxSteps, true));
                    }
                    for (int i = 0; i < steps.length; i++) {
                        NDList prediction = predictionAt(model, ps, input, out, steps[i]);
                        evaluator.updateAccumulator(keys[c][l][i], deviceLabels, prediction);
                    }
                }
            }
        }
    }

    private static NDList predictionAt(
            FeedbackBlock model, ParameterStore ps, NDArray input, NDList out, int t) {
        if (t == 0) {
            return model.forward(ps, new NDList(input), false, params(0, false));
        }
        int run = out.size() - 1;
        if (t >= run) {
            return new NDList(out.head());
        }
        NDArray state = out.get(t).get(new NDIndex(":, :{}", model.getClassChannels()));
        return model.getReadout().forward(ps, new NDList(state), false);
    }

    private static PairList<String, Object> params(int t, boolean states) {
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, t);
        params.add(FeedbackBlock.RETURN_STATES, states);
        return params;
    }

    private static NDArray firstParameter(FeedbackBlock model) {
        if (model.isInitialized()) {
            for (Pair<String, Parameter> p : model.getParameters()) {
                Parameter parameter = p.getValue();
                if (parameter.isInitialized() && parameter.getArray().getDataType().isFloating()) {
                    return parameter.getArray();
                }
            }
        }
        throw new IllegalArgumentException(
                "the model is not initialised: initialise it (or load or train it) before"
                        + " evaluating");
    }

    /** Builds a {@link RobustnessEvaluation}. */
    public static final class Builder {

        private final List<Corruption> corruptions = new ArrayList<>();
        private final List<float[]> levels = new ArrayList<>();
        private final List<Transform[]> transforms = new ArrayList<>();
        private int[] iterations;
        private Evaluator evaluator = new Accuracy();
        private String metric;
        private Progress progress;

        Builder() {}

        /**
         * Adds a corruption with its levels (at least one required in all). The transform of every
         * level is made here, so invalid levels fail now.
         *
         * @param corruption the corruption
         * @param levels its levels, at least one, in the order the table reports them
         * @return this builder
         * @throws IllegalArgumentException if there is no level, a level is invalid for the
         *     corruption (the message names the parameter and its range), or a corruption of that
         *     name was added already
         */
        public Builder addCorruption(Corruption corruption, float... levels) {
            if (corruption == null) {
                throw new IllegalArgumentException("corruption must not be null");
            }
            if (levels == null || levels.length == 0) {
                throw new IllegalArgumentException(
                        "corruption " + corruption.getName() + " needs at least one level");
            }
            for (Corruption c : corruptions) {
                if (c.getName().equals(corruption.getName())) {
                    throw new IllegalArgumentException(
                            "corruption " + c.getName() + " was added twice");
                }
            }
            Transform[] t = new Transform[levels.length];
            for (int i = 0; i < levels.length; i++) {
                t[i] = corruption.at(levels[i]);
            }
            corruptions.add(corruption);
            this.levels.add(levels.clone());
            transforms.add(t);
            return this;
        }

        /**
         * Sets the numbers of iterations T to evaluate (required), e.g. {@code 1, 2, 5, 10};
         * duplicates are dropped.
         *
         * @param iterations at least one T, each {@code >= 0}
         * @return this builder
         * @throws IllegalArgumentException if there is none or one is negative
         */
        public Builder setIterations(int... iterations) {
            if (iterations == null || iterations.length == 0) {
                throw new IllegalArgumentException("iterations needs at least one T");
            }
            Set<Integer> unique = new LinkedHashSet<>();
            for (int t : iterations) {
                if (t < 0) {
                    throw new IllegalArgumentException(
                            "iterations (T) must be >= 0, got " + t + " in the list");
                }
                unique.add(t);
            }
            this.iterations = unique.stream().mapToInt(Integer::intValue).toArray();
            return this;
        }

        /**
         * Sets the metric (default {@link Accuracy}). Its accumulators are reset per evaluation.
         *
         * @param evaluator the evaluator
         * @return this builder
         */
        public Builder optEvaluator(Evaluator evaluator) {
            this.evaluator = evaluator;
            return this;
        }

        /**
         * Sets the metric's column name (default: the evaluator's name in lower case, {@code
         * accuracy} for {@link Accuracy}).
         *
         * @param metric the column name
         * @return this builder
         */
        public Builder optMetricName(String metric) {
            this.metric = metric;
            return this;
        }

        /**
         * Reports progress in images, up to the dataset's size (default: none), e.g. DJL's {@code
         * ProgressBar}.
         *
         * @param progress the progress indicator
         * @return this builder
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /**
         * Builds the evaluation.
         *
         * @return the evaluation
         * @throws IllegalArgumentException if no corruption or no T was set, the evaluator is null,
         *     or the metric name is invalid
         */
        public RobustnessEvaluation build() {
            if (corruptions.isEmpty()) {
                throw new IllegalArgumentException(
                        "add at least one corruption (addCorruption; Corruption.none() for clean"
                                + " data)");
            }
            if (iterations == null) {
                throw new IllegalArgumentException("set the iterations T (setIterations)");
            }
            if (evaluator == null) {
                throw new IllegalArgumentException("evaluator must not be null");
            }
            RobustnessEvaluation e = new RobustnessEvaluation(this);
            new RobustnessTable(e.metric); // checks the column name
            return e;
        }
    }
}
