package dfbmodels.models;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.io.TorchNames;
import dfbmodels.io.TorchWeights;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeepLabV3PlusTest {

    @TempDir Path tmp;

    private static FeedbackBlock small(int classes) {
        return DeepLabV3Plus.builder()
                .setNumClasses(classes)
                .optClassFilters(32)
                .optIterations(3)
                .optAtol(0f)
                .build();
    }

    private static NDList run(FeedbackBlock model, NDManager m, NDArray x, int iterations) {
        PairList<String, Object> p = new PairList<>();
        p.add(FeedbackBlock.ITERATIONS, iterations);
        p.add(FeedbackBlock.RETURN_STATES, true);
        return model.forward(new ParameterStore(m, false), new NDList(x), false, p);
    }

    @Test
    void shapesForSeveralSizesBatchesAndIterations() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = small(5);
            model.initialize(m, DataType.FLOAT32, new Shape(3, 3, 64, 64));
            long[][] sizes = {{3, 64, 64}, {1, 96, 128}, {1, 32, 48}};
            for (long[] s : sizes) {
                NDArray x = m.randomNormal(new Shape(s[0], 3, s[1], s[2]));
                for (int t : new int[] {0, 1, 4}) {
                    NDList out = run(model, m, x, t);
                    assertEquals(new Shape(s[0], 5, s[1], s[2]), out.head().getShape());
                    assertEquals(t, out.size() - 1);
                    for (int i = 1; i <= t; i++) {
                        assertEquals(
                                new Shape(s[0], 34, s[1] / 4, s[2] / 4), out.get(i).getShape());
                    }
                }
                assertEquals(
                        new Shape(s[0], 5, s[1], s[2]),
                        model.getOutputShapes(new Shape[] {x.getShape()})[0]);
            }
        }
    }

    @Test
    void zeroIterationsReadOutTheZeroStateAsTheHeadsBias() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = small(3);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            NDArray bias = TorchNames.of(model).get("segmentation_head.0.bias").getArray();
            bias.set(new float[] {0.5f, -1f, 2f});
            NDArray out = run(model, m, m.randomNormal(new Shape(1, 3, 32, 32)), 0).head();
            assertClose(
                    "T=0 logits",
                    out,
                    bias.reshape(1, 3, 1, 1).broadcast(new Shape(1, 3, 32, 32)),
                    1e-6);
        }
    }

    @Test
    void structureAndParameterNamesFollowSegmentationModelsPytorch() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = DeepLabV3Plus.builder().setNumClasses(8).build();
            model.initialize(m, DataType.FLOAT32, new Shape(2, 3, 64, 64));
            Map<String, Parameter> p = TorchNames.of(model);
            assertEquals(new Shape(64, 3, 7, 7), p.get("encoder.conv1.weight").getShape());
            assertEquals(
                    new Shape(64, 66, 3, 3), p.get("encoder.layer1.0.conv1.weight").getShape());
            assertEquals(
                    new Shape(512, 1, 3, 3), p.get("decoder.aspp.0.convs.1.0.0.weight").getShape());
            assertEquals(
                    new Shape(258, 512, 1, 1),
                    p.get("decoder.aspp.0.convs.3.0.1.weight").getShape());
            assertEquals(
                    new Shape(258, 512, 1, 1), p.get("decoder.aspp.0.convs.4.1.weight").getShape());
            assertEquals(
                    new Shape(258, 1290, 1, 1),
                    p.get("decoder.aspp.0.project.0.weight").getShape());
            assertEquals(new Shape(258, 1, 3, 3), p.get("decoder.aspp.1.0.weight").getShape());
            assertEquals(new Shape(48, 64, 1, 1), p.get("decoder.block1.0.weight").getShape());
            assertEquals(new Shape(306, 1, 3, 3), p.get("decoder.block2.0.0.weight").getShape());
            assertEquals(new Shape(258, 258), p.get("error_head.Q").getShape());
            assertEquals(new Shape(2), p.get("layernorm_input.weight").getShape());
            assertEquals(new Shape(8, 256, 1, 1), p.get("segmentation_head.0.weight").getShape());
            // dilated layer4 keeps H/16: the state is at H/4 after the decoder's x4 upsampling
            NDList out = run(model, m, m.randomNormal(new Shape(2, 3, 64, 64)), 1);
            assertEquals(new Shape(2, 258, 16, 16), out.get(1).getShape());
        }
    }

    @Test
    void badSizesAndChannelsAreRejectedClearly() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = small(2);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> run(model, m, m.zeros(new Shape(1, 3, 72, 64)), 1));
            assertEquals(
                    "input height and width must be multiples of 16, got 72x64 (input shape (1, 3,"
                            + " 72, 64)); nearest valid sizes: 64x64 (rounded down) or 80x64"
                            + " (rounded up)",
                    e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> run(model, m, m.zeros(new Shape(1, 1, 32, 32)), 1));
            assertEquals(
                    "input must have 3 channels, shape (B, 3, H, W), got (1, 1, 32, 32)",
                    e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> DeepLabV3Plus.builder().setNumClasses(2).optFbFilters(0).build());
            assertEquals("fbFilters must be positive, got 0", e.getMessage());
        }
    }

    @Test
    void torchWeightsRoundTrip() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(2, 3, 32, 32);
            FeedbackBlock a = small(4);
            a.initialize(m, DataType.FLOAT32, in);
            Path file = tmp.resolve("deeplab.safetensors");
            TorchWeights.save(a, file);
            FeedbackBlock b = small(4);
            b.initialize(m, DataType.FLOAT32, in);
            TorchWeights.load(b, file);
            NDArray x = m.randomNormal(in);
            assertClose("logits after reload", run(b, m, x, 2).head(), run(a, m, x, 2).head(), 0);
        }
    }

    /** Noisy images with one bright disc each; label 1 inside the disc. */
    private static NDList discs(NDManager m, Random random, int n, int size) {
        float[] images = new float[n * 3 * size * size];
        float[] labels = new float[n * size * size];
        for (int i = 0; i < n; i++) {
            double cy = 12 + random.nextDouble() * (size - 24);
            double cx = 12 + random.nextDouble() * (size - 24);
            double r = 6 + random.nextDouble() * 8;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    boolean in = (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r;
                    labels[(i * size + y) * size + x] = in ? 1 : 0;
                    for (int c = 0; c < 3; c++) {
                        images[((i * 3 + c) * size + y) * size + x] =
                                (float) (random.nextGaussian() * 0.6 + (in ? 0.8 : 0));
                    }
                }
            }
        }
        return new NDList(
                m.create(images, new Shape(n, 3, size, size)),
                m.create(labels, new Shape(n, 1, size, size)).toType(DataType.INT64, false));
    }

    private static double foregroundIou(NDArray logits, NDArray labels) {
        NDArray pred = logits.argMax(1).reshape(labels.getShape()).toType(DataType.INT64, false);
        NDArray p = pred.eq(1);
        NDArray l = labels.eq(1);
        double inter = p.logicalAnd(l).sum().getLong();
        double union = p.logicalOr(l).sum().getLong();
        return inter / union;
    }

    @Test
    void learnsToSegmentDiscs() {
        Engine.getInstance().setRandomSeed(1234);
        Random random = new Random(1234);
        int size = 64;
        try (Model model = Model.newInstance("seg");
                NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = small(2);
            model.setBlock(block);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(new SoftmaxCrossEntropyLoss("seg", 1, 1, true, true))
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(2e-3f))
                                            .build());
            NDList test = discs(m, random, 16, size);
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(8, 3, size, size));
                for (int step = 0; step < STEPS; step++) {
                    try (NDManager batch = m.newSubManager()) {
                        NDList b = discs(batch, random, 8, size);
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDArray logits = trainer.forward(new NDList(b.get(0))).head();
                            gc.backward(
                                    trainer.getLoss()
                                            .evaluate(new NDList(b.get(1)), new NDList(logits)));
                        }
                        trainer.step();
                    }
                }
            }
            NDArray logits =
                    block.forward(new ParameterStore(m, false), new NDList(test.get(0)), false)
                            .head();
            double iou = foregroundIou(logits, test.get(1));
            double trivial = test.get(1).toType(DataType.FLOAT32, false).mean().getFloat();
            System.out.printf(
                    "DeepLabV3+ discs: foreground IoU %.3f after %d steps (all-foreground: %.3f)%n",
                    iou, STEPS, trivial);
            assertTrue(iou > IOU_THRESHOLD, "foreground IoU " + iou);
        }
    }

    private static final int STEPS = 35;
    private static final double IOU_THRESHOLD = 0.5;
}
