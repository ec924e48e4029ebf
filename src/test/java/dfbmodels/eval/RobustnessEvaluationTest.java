package dfbmodels.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.translate.Transform;
import ai.djl.util.PairList;
import ai.djl.util.Progress;
import dfbmodels.FashionMnistSample;
import dfbmodels.FeedbackBlock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RobustnessEvaluationTest {

    private static final int[] T = {0, 1, 2, 4};

    private static FeedbackBlock init(FeedbackBlock block, NDManager m, Shape input) {
        Engine.getInstance().setRandomSeed(3);
        block.initialize(m, DataType.FLOAT32, input);
        return block;
    }

    private static RobustnessEvaluation.Builder corruptions() {
        return RobustnessEvaluation.builder()
                .addCorruption(Corruption.none(), 0f)
                .addCorruption(Corruption.gaussianNoise(5), 0.1f, 0.3f)
                .addCorruption(Corruption.saltAndPepper(6), 0.2f)
                .addCorruption(Corruption.gaussianBlur(), 0.5f)
                .addCorruption(Corruption.contrast(), 0.5f);
    }

    /** The logits of one cell computed the plain way: the whole set corrupted, one forward. */
    private static NDArray logits(FeedbackBlock model, NDArray x, Transform corruption, int t) {
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, t);
        return model.forward(
                        new ParameterStore(x.getManager(), false),
                        new NDList(corruption.transform(x)),
                        false,
                        params)
                .head();
    }

    /** Accuracy counted on the host (argmax over axis 1). */
    private static float accuracy(NDArray logits, NDArray labels) {
        long[] predicted = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
        long[] truth = labels.toType(DataType.INT64, false).toLongArray();
        long correct = 0;
        for (int i = 0; i < truth.length; i++) {
            correct += predicted[i] == truth[i] ? 1 : 0;
        }
        return (float) correct / truth.length;
    }

    private static double mean(NDArray logits) {
        double sum = 0;
        for (double v : logits.toType(DataType.FLOAT64, false).toDoubleArray()) {
            sum += v;
        }
        return sum / logits.size();
    }

    /** Checks every row of {@code name} against its plain computation; returns the row count. */
    private static int assertCellsMatch(
            RobustnessTable table, String name, FeedbackBlock model, NDArray x, NDArray labels) {
        int rows = 0;
        for (RobustnessTable.Row r : table.getRows()) {
            if (!r.model().equals(name)) {
                continue;
            }
            rows++;
            NDArray logits =
                    logits(model, x, corruption(r.corruption()).at(r.level()), r.iterations());
            if (labels != null) {
                assertEquals(accuracy(logits, labels), r.value(), r.toString());
            } else {
                double want = mean(logits);
                assertEquals(want, r.value(), 1e-6 * Math.max(1, Math.abs(want)), r.toString());
            }
        }
        return rows;
    }

    private static Corruption corruption(String name) {
        switch (name) {
            case "none":
                return Corruption.none();
            case "gaussian_noise":
                return Corruption.gaussianNoise(5);
            case "salt_and_pepper":
                return Corruption.saltAndPepper(6);
            case "gaussian_blur":
                return Corruption.gaussianBlur();
            case "contrast":
                return Corruption.contrast();
            default:
                throw new AssertionError(name);
        }
    }

    @Test
    void everyCellIsTheMetricOfASeparateForward() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            // 10 images in batches of 4, 4, 2; 3 classes
            NDArray x = m.randomUniform(0f, 1f, new Shape(10, 1, 8, 8));
            FeedbackBlock loop = init(TinyModels.classifier(0f, true), m, new Shape(4, 1, 8, 8));
            // a huge atol stops every forward after step 3: T = 4 must read the stopped state
            FeedbackBlock stopping =
                    init(TinyModels.classifier(1e9f, true), m, new Shape(4, 1, 8, 8));
            FeedbackBlock twin = init(TinyModels.classifier(0f, false), m, new Shape(4, 1, 8, 8));
            // labels: the clean T = 4 predictions of the loop, so accuracies are not all chance
            NDArray labels = logits(loop, x, a -> a, 4).argMax(1).toType(DataType.FLOAT32, false);
            ArrayDataset set =
                    new ArrayDataset.Builder()
                            .setData(x)
                            .optLabels(labels)
                            .setSampling(4, false)
                            .build();
            RecordingProgress progress = new RecordingProgress();
            RobustnessEvaluation evaluation =
                    corruptions().setIterations(T).optProgress(progress).build();
            RobustnessTable table = evaluation.evaluate("feedback", loop, set);
            assertEquals("accuracy", table.getMetric());
            assertEquals(List.of("reset 10", "start 0", "+4", "+4", "+2", "end"), progress.events);
            table.addAll(evaluation.evaluate("stopping", stopping, set));
            table.addAll(evaluation.evaluate("twin", twin, set));
            assertEquals(6 * T.length * 2 + 6, table.getRows().size());
            assertEquals(6 * T.length, assertCellsMatch(table, "feedback", loop, x, labels));
            assertEquals(6 * T.length, assertCellsMatch(table, "stopping", stopping, x, labels));
            assertEquals(6, assertCellsMatch(table, "twin", twin, x, labels), "twin: T = 1 only");
            assertEquals(1f, table.get("feedback", "none", 0f, 4));
            // the twin has the loop's initialisation (same seed): its cells are the loop's T = 1
            for (RobustnessTable.Row r : table.getRows()) {
                if (r.model().equals("twin")) {
                    assertEquals(1, r.iterations());
                    assertEquals(
                            table.get("feedback", r.corruption(), r.level(), 1),
                            r.value(),
                            r.toString());
                }
            }
            // a continuous metric tells every cell apart: the mean logit
            RobustnessTable means =
                    corruptions()
                            .setIterations(T)
                            .optEvaluator(new MeanOutput())
                            .build()
                            .evaluate("feedback", loop, set);
            assertEquals("mean_output", means.getMetric());
            assertEquals(6 * T.length, assertCellsMatch(means, "feedback", loop, x, null));
            long distinct =
                    means.getRows().stream()
                            .filter(r -> r.iterations() > 0)
                            .map(RobustnessTable.Row::value)
                            .distinct()
                            .count();
            assertEquals(6 * (T.length - 1), distinct, means.toCsv());
        }
    }

    @Test
    void segmentersAreEvaluatedPerPixelWithAnyEvaluator() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomUniform(0f, 1f, new Shape(6, 1, 8, 8));
            NDArray labels = m.randomInteger(0, 3, new Shape(6, 8, 8), DataType.INT32);
            ArrayDataset set =
                    new ArrayDataset.Builder()
                            .setData(x)
                            .optLabels(labels)
                            .setSampling(4, false)
                            .build();
            FeedbackBlock model = init(TinyModels.segmenter(), m, new Shape(4, 1, 8, 8));
            RobustnessTable table =
                    RobustnessEvaluation.builder()
                            .addCorruption(Corruption.none(), 0f)
                            .addCorruption(Corruption.gaussianBlur(), 1f)
                            .setIterations(1, 3)
                            .optEvaluator(new Accuracy("Pixel_Accuracy", 1))
                            .build()
                            .evaluate("segmenter", model, set);
            assertEquals("pixel_accuracy", table.getMetric());
            assertEquals(4, table.getRows().size());
            for (RobustnessTable.Row r : table.getRows()) {
                Transform c = r.corruption().equals("none") ? a -> a : new GaussianBlur(1f);
                PairList<String, Object> params = new PairList<>();
                params.add(FeedbackBlock.ITERATIONS, r.iterations());
                NDArray logits =
                        model.forward(
                                        new ParameterStore(m, false),
                                        new NDList(c.transform(x)),
                                        false,
                                        params)
                                .head();
                assertEquals(new Shape(6, 3, 8, 8), logits.getShape());
                long correct =
                        logits.argMax(1)
                                .toType(DataType.INT32, false)
                                .eq(labels)
                                .countNonzero()
                                .getLong();
                assertEquals((float) correct / (6 * 64), r.value(), r.toString());
            }
        }
    }

    @Test
    void corruptingInTheDatasetPipelineGivesTheSameCellsOnRealImages(@TempDir Path dir)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = FashionMnistSample.images(m, 48);
            NDArray labels = FashionMnistSample.labels(m, 48);
            FeedbackBlock model = init(classifier10(), m, new Shape(16, 1, 28, 28));
            // corrupted by the evaluation, batches in order ...
            ArrayDataset clean =
                    new ArrayDataset.Builder()
                            .setData(x)
                            .optLabels(labels)
                            .setSampling(16, false)
                            .build();
            RobustnessTable evaluated =
                    RobustnessEvaluation.builder()
                            .addCorruption(Corruption.gaussianNoise(9), 0.4f)
                            .addCorruption(Corruption.saltAndPepper(9), 0.3f)
                            .addCorruption(Corruption.gaussianBlur(), 2f)
                            .addCorruption(Corruption.contrast(), 0.2f)
                            .setIterations(1, 3)
                            .optEvaluator(new MeanOutput())
                            .build()
                            .evaluate("m", model, clean);
            // ... and by the pipeline of a shuffled dataset with batches of another size
            for (RobustnessTable.Row r : evaluated.getRows()) {
                ArrayDataset corrupted =
                        new ArrayDataset.Builder()
                                .setData(x)
                                .optLabels(labels)
                                .setSampling(12, true)
                                .addTransform(corruption9(r.corruption()).at(r.level()))
                                .build();
                RobustnessTable piped =
                        RobustnessEvaluation.builder()
                                .addCorruption(Corruption.none(), 0f)
                                .setIterations(r.iterations())
                                .optEvaluator(new MeanOutput())
                                .build()
                                .evaluate("m", model, corrupted);
                // the same corrupted images: equal up to the order of summation
                assertEquals(r.value(), piped.getRows().get(0).value(), 1e-6f, r.toString());
            }
            // every corruption and T gives its own value
            assertEquals(
                    8,
                    evaluated.getRows().stream().map(RobustnessTable.Row::value).distinct().count(),
                    evaluated.toCsv());
            Path csv = dir.resolve("out").resolve("robustness.csv");
            evaluated.writeCsv(csv);
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            assertEquals("model,corruption,level,iterations,mean_output", lines.get(0));
            assertEquals(9, lines.size());
            RobustnessTable.Row first = evaluated.getRows().get(0);
            assertEquals("m,gaussian_noise,0.4,1," + first.value(), lines.get(1));
            try (var files = Files.list(csv.getParent())) {
                assertEquals(1, files.count(), "no temporary file left");
            }
            // the permissions of any new file in that folder, not a temporary file's owner-only
            Path plain = Files.createFile(dir.resolve("out").resolve("plain"));
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(csv));
        }
    }

    private static Corruption corruption9(String name) {
        switch (name) {
            case "gaussian_noise":
                return Corruption.gaussianNoise(9);
            case "salt_and_pepper":
                return Corruption.saltAndPepper(9);
            default:
                return corruption(name);
        }
    }

    /** The tiny classifier's shape with 10 classes, for Fashion-MNIST. */
    private static FeedbackBlock classifier10() {
        FeedbackBlock three = TinyModels.classifier(0f, true);
        return FeedbackBlock.builder()
                .setFrontend(three.getFrontend())
                .setBody(three.getBody())
                .setReadout(
                        new ai.djl.nn.SequentialBlock()
                                .add(ai.djl.nn.pooling.Pool.globalAvgPool2dBlock())
                                .add(ai.djl.nn.Blocks.batchFlattenBlock())
                                .add(ai.djl.nn.core.Linear.builder().setUnits(10).build()))
                .setClassChannels(TinyModels.CLASS_CHANNELS)
                .setFeedbackChannels(TinyModels.FB)
                .optErrorGroups(4)
                .optFeedbackGroups(2)
                .optAtol(0f)
                .build();
    }

    @Test
    void badSettingsFailWhenBuiltOrCalled() {
        assertEquals(
                "GaussianBlur sigma must be in [0, inf) (finite, in pixels), got -1.0",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        RobustnessEvaluation.builder()
                                                .addCorruption(Corruption.gaussianBlur(), 1f, -1f))
                        .getMessage());
        assertEquals(
                "iterations (T) must be >= 0, got -2 in the list",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> RobustnessEvaluation.builder().setIterations(1, -2))
                        .getMessage());
        assertEquals(
                "set the iterations T (setIterations)",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        RobustnessEvaluation.builder()
                                                .addCorruption(Corruption.none(), 0f)
                                                .build())
                        .getMessage());
        assertEquals(
                "corruption contrast was added twice",
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        RobustnessEvaluation.builder()
                                                .addCorruption(Corruption.contrast(), 1f)
                                                .addCorruption(Corruption.contrast(), 0.5f))
                        .getMessage());
        RobustnessEvaluation e = corruptions().setIterations(1).build();
        assertEquals(
                "the model is not initialised: initialise it (or load or train it) before"
                        + " evaluating",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> e.evaluate("m", TinyModels.classifier(0f, true), null))
                        .getMessage());
    }

    /** Records the calls a {@link Progress} gets. */
    private static final class RecordingProgress implements Progress {

        final List<String> events = new ArrayList<>();

        @Override
        public void reset(String message, long max, String trailingMessage) {
            events.add("reset " + max);
        }

        @Override
        public void start(long initialProgress) {
            events.add("start " + initialProgress);
        }

        @Override
        public void end() {
            events.add("end");
        }

        @Override
        public void increment(long increment) {
            events.add("+" + increment);
        }

        @Override
        public void update(long progress, String message) {
            events.add("update " + progress);
        }
    }
}
