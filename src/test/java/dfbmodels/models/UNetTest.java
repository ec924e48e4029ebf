package dfbmodels.models;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
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
import dfbmodels.state.GeneralStateExpDecay;
import dfbmodels.state.TimeFactor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UNetTest {

    @TempDir Path tmp;

    /** A U-Net with one residual block per layer: the full structure at a quarter of the cost. */
    static FeedbackBlock tiny(int classes, int iterations) {
        return UNet.builder()
                .setNumClasses(classes)
                .optClassFilters(4)
                .optEncoder(ResidualBlockType.BASIC, 1, 1, 1, 1)
                .optIterations(iterations)
                .optAtol(0f)
                .build();
    }

    static PairList<String, Object> params(Object... kv) {
        PairList<String, Object> p = new PairList<>();
        for (int i = 0; i < kv.length; i += 2) {
            p.add((String) kv[i], kv[i + 1]);
        }
        return p;
    }

    private static NDList run(FeedbackBlock model, NDManager m, NDArray x, int iterations) {
        return model.forward(
                new ParameterStore(m, false),
                new NDList(x),
                false,
                params(FeedbackBlock.ITERATIONS, iterations, FeedbackBlock.RETURN_STATES, true));
    }

    @Test
    void shapesAt64x64And96x128ForSeveralIterations() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = tiny(3, 2);
            model.initialize(m, DataType.FLOAT32, new Shape(2, 3, 64, 64));
            long[][] sizes = {{2, 64, 64}, {1, 96, 128}};
            for (long[] s : sizes) {
                NDArray x = m.randomUniform(0, 1, new Shape(s[0], 3, s[1], s[2]));
                for (int t : new int[] {0, 2}) {
                    NDList out = run(model, m, x, t);
                    assertEquals(new Shape(s[0], 3, s[1], s[2]), out.head().getShape());
                    assertEquals(t, out.size() - 1);
                    for (int i = 1; i <= t; i++) {
                        // the state has the input's full resolution: 4 class + 2 feedback channels
                        assertEquals(new Shape(s[0], 6, s[1], s[2]), out.get(i).getShape());
                    }
                }
                assertEquals(
                        new Shape(s[0], 3, s[1], s[2]),
                        model.getOutputShapes(new Shape[] {x.getShape()})[0]);
            }
        }
    }

    @Test
    void sizesNotMultiplesOf32AreRejectedWithTheNearestValidSizes() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = tiny(2, 1);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> run(model, m, m.zeros(new Shape(1, 3, 72, 64)), 1));
            assertEquals(
                    "input height and width must be multiples of 32, got 72x64 (input shape (1, 3,"
                            + " 72, 64)); nearest valid sizes: 64x64 (rounded down) or 96x64"
                            + " (rounded up)",
                    e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> model.getOutputShapes(new Shape[] {new Shape(1, 3, 28, 100)}));
            assertEquals(
                    "input height and width must be multiples of 32, got 28x100 (input shape (1,"
                            + " 3, 28, 100)); nearest valid sizes: 32x128 (rounded up)",
                    e.getMessage());
        }
    }

    @Test
    void zeroIterationsReadOutTheZeroStateAsTheHeadsBias() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = tiny(2, 3);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            NDArray bias = TorchNames.of(model).get("segmentation_head.0.bias").getArray();
            bias.set(new float[] {0.25f, -1.5f});
            NDArray out = run(model, m, m.randomUniform(0, 1, new Shape(1, 3, 32, 32)), 0).head();
            assertClose(
                    "T=0 logits",
                    out,
                    bias.reshape(1, 2, 1, 1).broadcast(new Shape(1, 2, 32, 32)),
                    0);
        }
    }

    /** Norm_HW by hand: every channel of every sample over its pixels, eps 1e-5. */
    private static NDArray normHw(NDArray x) {
        Shape s = x.getShape();
        NDArray flat = x.reshape(s.get(0), s.get(1), -1);
        NDArray centered = flat.sub(flat.mean(new int[] {2}, true));
        NDArray var = centered.square().mean(new int[] {2}, true);
        return centered.div(var.add(1e-5).sqrt()).reshape(s);
    }

    @Test
    void everyStepIsTheHandComputedUpdateWithTheTimeFactor() {
        // T = 4, alpha = 1.5: the update of step t is weighted sqrt(1 - t/4) / Gamma(1.5)
        double gamma15 = Math.sqrt(Math.PI) / 2;
        double[] expected = {1, Math.sqrt(0.75), Math.sqrt(0.5), 0.5};
        TimeFactor factor = TimeFactor.fractional(1.5);
        for (int t = 0; t < 4; t++) {
            assertEquals(expected[t] / gamma15, factor.at(t, 4), 1e-15);
        }
        assertEquals(0.886227, gamma15, 1e-6);
        assertEquals(1 / 0.886227, factor.at(0, 4), 1e-6);
        assertEquals(0.866025 / 0.886227, factor.at(1, 4), 1e-6);
        assertEquals(0.707107 / 0.886227, factor.at(2, 4), 1e-6);
        assertEquals(0.5 / 0.886227, factor.at(3, 4), 1e-6);
        Engine.getInstance().setRandomSeed(7);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = tiny(2, 4);
            // float64 keeps the small late updates (e^(-5t)) exact enough to compare
            model.initialize(m, DataType.FLOAT64, new Shape(2, 3, 32, 32));
            NDArray x =
                    m.randomUniform(0, 1, new Shape(2, 3, 32, 32)).toType(DataType.FLOAT64, false);
            ParameterStore ps = new ParameterStore(m, false);
            NDList out = run(model, m, x, 4);
            Map<String, Parameter> p = TorchNames.of(model);
            NDArray q = p.get("error_head.Q").getArray();
            NDArray qinv = p.get("error_head.Qinv").getArray();
            // tau is a float parameter: 0.2f, which differs from 0.2 by 1.5e-8
            double tau = p.get("error_head.tau").getArray().getDouble();
            assertEquals(0.2f, tau, 0);
            NDArray h = m.zeros(new Shape(2, 6, 32, 32), DataType.FLOAT64);
            for (int t = 0; t < 4; t++) {
                NDArray f = normHw(h.get(new NDIndex(":, 4:"))).softmax(1);
                NDArray y =
                        model.getBody()
                                .forward(
                                        ps, new NDList(NDArrays.concat(new NDList(x, f), 1)), false)
                                .head();
                // E_t(z) = Qinv diag(exp(-t / tau)) Q z on every pixel's channel vector
                NDArray z = normHw(y).transpose(0, 2, 3, 1);
                NDArray e =
                        z.matMul(q.transpose())
                                .mul(Math.exp(-t / tau))
                                .matMul(qinv.transpose())
                                .transpose(0, 3, 1, 2);
                NDArray want = e.mul(expected[t] / gamma15);
                NDArray got = out.get(t + 1).sub(t == 0 ? h : out.get(t));
                // relative to the update's size, which shrinks by e^-5 per step; a factor off by
                // 1e-6 would show as 1e-6
                double scale = want.abs().max().getDouble();
                double error = got.sub(want).abs().max().getDouble() / scale;
                assertTrue(scale > 1e-9, "step " + t + " has an update to compare");
                assertTrue(error < 1e-9, "update of step " + t + ": relative error " + error);
                h = out.get(t + 1);
            }
            NDArray logits =
                    model.getReadout()
                            .forward(ps, new NDList(h.get(new NDIndex(":, :4"))), false)
                            .head();
            assertClose("readout of the last state", out.head(), logits, 1e-12);
        }
    }

    @Test
    void qAndQinvGetGradientsAndAreNeverOrthogonalised() {
        Engine.getInstance().setRandomSeed(3);
        try (Model model = Model.newInstance("unet")) {
            FeedbackBlock block = tiny(2, 3);
            model.setBlock(block);
            assertTrue(block.getStateOp() instanceof GeneralStateExpDecay);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(new SoftmaxCrossEntropyLoss("ce", 1, 1, true, true))
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(1e-2f))
                                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager m = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(2, 3, 32, 32));
                Map<String, Parameter> p = TorchNames.of(block);
                NDArray q = p.get("error_head.Q").getArray();
                NDArray qinv = p.get("error_head.Qinv").getArray();
                float[] q0 = q.toFloatArray();
                float[] qinv0 = qinv.toFloatArray();
                NDArray eye = m.eye(6);
                double offOrthogonal = q.transpose().matMul(q).sub(eye).abs().max().getFloat();
                assertTrue(offOrthogonal > 0.1, "Xavier Q is not orthogonal: " + offOrthogonal);
                NDArray x = m.randomUniform(0, 1, new Shape(2, 3, 32, 32));
                NDArray y = m.randomInteger(0, 2, new Shape(2, 1, 32, 32), DataType.INT64);
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDArray logits = trainer.forward(new NDList(x)).head();
                    // a training forward leaves Q and Qinv as they were (no QR)
                    assertEquals(Arrays.toString(q0), Arrays.toString(q.toFloatArray()));
                    gc.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(logits)));
                }
                double gq = q.getGradient().abs().sum().getFloat();
                double gqinv = qinv.getGradient().abs().sum().getFloat();
                assertTrue(gq > 0 && Double.isFinite(gq), "grad Q " + gq);
                assertTrue(gqinv > 0 && Double.isFinite(gqinv), "grad Qinv " + gqinv);
                trainer.step();
                float[] q1 = q.toFloatArray();
                assertFalse(Arrays.equals(q0, q1), "Q is trained");
                assertFalse(Arrays.equals(qinv0, qinv.toFloatArray()), "Qinv is trained");
                // the next training forward still does not re-orthogonalise the trained Q
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    trainer.forward(new NDList(x));
                }
                assertTrue(Arrays.equals(q1, q.toFloatArray()), "Q left as trained");
                // S, tau and alpha are constants
                assertNotNull(p.get("error_head.S"));
                assertFalse(p.get("error_head.S").requiresGradient());
                assertFalse(p.get("error_head.tau").requiresGradient());
            }
        }
    }

    @Test
    void theFeedforwardTwinIsTheFirstStepOfTheFeedbackModel() throws Exception {
        Engine.getInstance().setRandomSeed(5);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(1, 3, 32, 32);
            FeedbackBlock fb = tiny(2, 5);
            fb.initialize(m, DataType.FLOAT32, in);
            Path file = tmp.resolve("unet.safetensors");
            TorchWeights.save(fb, file);
            FeedbackBlock ff =
                    UNet.builder()
                            .setNumClasses(2)
                            .optClassFilters(4)
                            .optEncoder(ResidualBlockType.BASIC, 1, 1, 1, 1)
                            .optIterations(5)
                            .optFeedback(false)
                            .build();
            ff.initialize(m, DataType.FLOAT32, in);
            TorchWeights.load(ff, file);
            NDArray x = m.randomUniform(0, 1, in);
            NDList steps =
                    fb.forward(
                            new ParameterStore(m, false),
                            new NDList(x),
                            false,
                            params(FeedbackBlock.RETURN_READOUTS, true));
            NDList readouts = FeedbackBlock.stepReadouts(steps);
            assertEquals(5, readouts.size());
            NDList twin = run(ff, m, x, 5);
            assertEquals(2, twin.size(), "one step whatever T");
            // the twin keeps step 0's factor 1/Gamma(1.5): its output is the first readout
            assertClose("twin = step 0", twin.head(), readouts.get(0), 1e-6);
        }
    }

    @Test
    void parameterNamesFollowSegmentationModelsPytorchAndRoundTrip() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(1, 3, 32, 32);
            FeedbackBlock model = UNet.builder().setNumClasses(2).optIterations(2).build();
            model.initialize(m, DataType.FLOAT32, in);
            Map<String, Parameter> p = TorchNames.of(model);
            Object[][] expected = {
                {"encoder.conv1.weight", new Shape(64, 5, 7, 7)},
                {"encoder.bn1.running_var", new Shape(64)},
                {"encoder.layer1.2.conv2.weight", new Shape(64, 64, 3, 3)},
                {"encoder.layer2.0.downsample.0.weight", new Shape(128, 64, 1, 1)},
                {"encoder.layer3.5.bn2.bias", new Shape(256)},
                {"encoder.layer4.2.conv1.weight", new Shape(512, 512, 3, 3)},
                {"decoder.blocks.0.conv1.0.weight", new Shape(256, 768, 3, 3)},
                {"decoder.blocks.0.conv1.1.running_mean", new Shape(256)},
                {"decoder.blocks.1.conv1.0.weight", new Shape(128, 384, 3, 3)},
                {"decoder.blocks.2.conv1.0.weight", new Shape(64, 192, 3, 3)},
                {"decoder.blocks.3.conv1.0.weight", new Shape(32, 128, 3, 3)},
                {"decoder.blocks.4.conv1.0.weight", new Shape(18, 32, 3, 3)},
                {"decoder.blocks.4.conv2.1.weight", new Shape(18)},
                {"segmentation_head.0.weight", new Shape(2, 16, 3, 3)},
                {"segmentation_head.0.bias", new Shape(2)},
                {"error_head.Q", new Shape(18, 18)},
                {"error_head.Qinv", new Shape(18, 18)},
                {"error_head.S", new Shape(18)},
                {"layernorm_error.weight", new Shape(18)},
                {"layernorm_input.bias", new Shape(2)},
            };
            for (Object[] e : expected) {
                assertTrue(p.containsKey((String) e[0]), "missing " + e[0] + " in " + p.keySet());
                assertEquals(e[1], p.get((String) e[0]).getShape(), (String) e[0]);
            }
            for (String key : p.keySet()) {
                assertTrue(
                        key.matches(
                                "(encoder\\.(conv1|bn1|layer[1-4])|decoder\\.blocks\\.[0-4]\\.conv[12]"
                                        + "\\.[01]|segmentation_head\\.0|error_head"
                                        + "|layernorm_(error|input))\\..+"),
                        key);
            }
            // smp's ResNet34 encoder has 36 convolutions and 36 BatchNorms (4 entries each here)
            long encoder = p.keySet().stream().filter(k -> k.startsWith("encoder.")).count();
            assertEquals(36 + 36 * 4, encoder);
            // 5 decoder blocks x 2 x (conv weight + 4 BN entries)
            assertEquals(50, p.keySet().stream().filter(k -> k.startsWith("decoder.")).count());

            Path file = tmp.resolve("unet.safetensors");
            TorchWeights.save(model, file);
            FeedbackBlock copy = UNet.builder().setNumClasses(2).optIterations(2).build();
            copy.initialize(m, DataType.FLOAT32, in);
            TorchWeights.load(copy, file);
            NDArray x = m.randomUniform(0, 1, in);
            assertClose(
                    "logits after reload",
                    run(copy, m, x, 2).head(),
                    run(model, m, x, 2).head(),
                    0);
        }
    }

    @Test
    void savesAndLoadsWithDjlsModelFormat() throws Exception {
        Engine.getInstance().setRandomSeed(9);
        Shape in = new Shape(1, 3, 32, 32);
        float[] x = new float[(int) in.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) / 7f;
        }
        float[] want;
        try (Model model = Model.newInstance("unet")) {
            FeedbackBlock block = tiny(2, 2);
            model.setBlock(block);
            NDManager m = model.getNDManager();
            block.initialize(m, DataType.FLOAT32, in);
            want = run(block, m, m.create(x, in), 2).head().toFloatArray();
            model.save(tmp, "unet");
        }
        try (Model model = Model.newInstance("unet")) {
            FeedbackBlock block = tiny(2, 2);
            model.setBlock(block);
            model.load(tmp, "unet");
            NDManager m = model.getNDManager();
            float[] got = run(block, m, m.create(x, in), 2).head().toFloatArray();
            assertArrayEquals(want, got, "logits after Model.load");
        }
    }

    @Test
    void builderOptionsReachTheModel() {
        FeedbackBlock defaults = UNet.builder().setNumClasses(2).build();
        assertEquals(5, defaults.getIterations());
        assertEquals(1e-5f, defaults.getAtol());
        assertEquals(16, defaults.getClassChannels());
        assertEquals(2, defaults.getFeedbackChannels());
        assertEquals(Math.sqrt(0.5) / 0.886227, defaults.getTimeFactor().at(2, 4), 1e-6);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model =
                    UNet.builder()
                            .setNumClasses(3)
                            .optInChannels(1)
                            .optFbFilters(3)
                            .optClassFilters(5)
                            .optTau(0.5f)
                            .optTimeExponent(2)
                            .optEncoder(ResidualBlockType.BOTTLENECK, 1, 2, 1, 1)
                            .optIterations(3)
                            .optAtol(0.5f)
                            .build();
            assertEquals(3, model.getIterations());
            assertEquals(0.5f, model.getAtol());
            assertEquals(8, model.getStateChannels());
            // alpha = 2: (1 - t/T) / Gamma(2) = 1 - t/T
            assertEquals(2 / 3.0, model.getTimeFactor().at(1, 3), 1e-15);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 1, 32, 64));
            Map<String, Parameter> p = TorchNames.of(model);
            // 1 input + 3 feedback channels into the stem
            assertEquals(new Shape(64, 4, 7, 7), p.get("encoder.conv1.weight").getShape());
            assertEquals(
                    new Shape(64, 64, 1, 1), p.get("encoder.layer1.0.conv1.weight").getShape());
            assertTrue(p.containsKey("encoder.layer2.1.conv3.weight"));
            assertFalse(p.containsKey("encoder.layer2.2.conv1.weight"));
            // bottlenecks widen the skips: layer4 2048 + layer3 1024 into decoder block 0
            assertEquals(
                    new Shape(256, 3072, 3, 3),
                    p.get("decoder.blocks.0.conv1.0.weight").getShape());
            assertEquals(
                    new Shape(8, 32, 3, 3), p.get("decoder.blocks.4.conv1.0.weight").getShape());
            assertEquals(new Shape(3, 5, 3, 3), p.get("segmentation_head.0.weight").getShape());
            assertEquals(new Shape(8, 8), p.get("error_head.Q").getShape());
            assertEquals(0.5f, p.get("error_head.tau").getArray().getFloat());
            assertEquals(new Shape(3), p.get("layernorm_input.weight").getShape());
            NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 32, 64));
            NDList out = run(model, m, x, 2);
            assertEquals(new Shape(2, 3, 32, 64), out.head().getShape());
            assertEquals(new Shape(2, 8, 32, 64), out.get(1).getShape());
        }
        // alpha = 1 turns the factor off
        assertSame(
                TimeFactor.NONE,
                UNet.builder().setNumClasses(2).optTimeExponent(1).build().getTimeFactor());
    }

    @Test
    void badBuilderSettingsAreExplained() {
        Object[][] cases = {
            {UNet.builder(), "numClasses must be set to a positive number (setNumClasses), got -1"},
            {
                UNet.builder().setNumClasses(2).optInChannels(0),
                "inChannels must be positive, got 0"
            },
            {UNet.builder().setNumClasses(2).optFbFilters(0), "fbFilters must be positive, got 0"},
            {
                UNet.builder().setNumClasses(2).optClassFilters(-1),
                "classFilters must be positive, got -1"
            },
            {
                UNet.builder().setNumClasses(2).optTimeExponent(0),
                "timeExponent must be positive and finite, got 0.0"
            },
            {
                UNet.builder().setNumClasses(2).optTau(0f),
                "tau must be positive and finite, got 0.0"
            },
            {
                UNet.builder().setNumClasses(2).optEncoder(ResidualBlockType.BASIC, 1, 1, 1),
                "the encoder needs a block type and four positive block counts, got BASIC [1, 1,"
                        + " 1]"
            },
        };
        for (Object[] c : cases) {
            UNet.Builder builder = (UNet.Builder) c[0];
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, builder::build);
            assertEquals(c[1], e.getMessage());
        }
    }
}
