package dfbmodels.models;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.Fixtures;
import dfbmodels.io.TorchNames;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Pins docs/math.md, "A 1×1 state with one channel per feedback group": ResNet18 on 28×28 inputs
 * (state 1×1) with fb = 8 and 8 groups feeds back the uniform softmax at every step, so {@code h_T
 * = c_T·h_1} and {@code logits_T - b = c_T·(logits_1 - b)} with {@code c_T = Σ_{t<T} e^{-t/τ}}; the
 * top class is the same for every T when {@code fc.bias} is constant over classes, and not in
 * general otherwise. With fb = 16 (two channels per group) the feedback is not uniform. In float64,
 * since in float32 GroupNorm turns the rounding of a constant map's mean into a ~1e-5 deviation
 * from the uniform feedback.
 */
class UniformFeedbackTest {

    private static final int BATCH = 32;
    private static final int MAX_T = 5;

    private static FeedbackBlock resnet18(NDManager m, int fb, NDArray x) {
        return resnet18(m, fb, DataType.FLOAT32, x);
    }

    private static FeedbackBlock resnet18(NDManager m, int fb, DataType type, NDArray x) {
        FeedbackBlock model =
                ResNet18.builder()
                        .setNumClasses(10)
                        .optInChannels(1)
                        .optFbFilters(fb)
                        .optAtol(0f)
                        .build();
        Engine.getInstance().setRandomSeed(13);
        model.initialize(m, type, x.getShape());
        return model;
    }

    private static NDArray input(NDManager m) {
        Random random = new Random(7);
        float[] v = new float[BATCH * 28 * 28];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return m.create(v, new Shape(BATCH, 1, 28, 28));
    }

    /** Returns the logits followed by the states after steps 1..T. */
    private static NDList run(FeedbackBlock model, NDArray x, int t, boolean training) {
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, t);
        params.add(FeedbackBlock.RETURN_STATES, true);
        return model.forward(
                new ParameterStore(x.getManager(), false), new NDList(x), training, params);
    }

    // c_T for tau = 1, S = 1, Q orthogonal (the initial state op)
    private static double c(int t) {
        double sum = 0;
        for (int s = 0; s < t; s++) {
            sum += Math.exp(-s);
        }
        return sum;
    }

    private static void setBias(FeedbackBlock model, float[] bias) {
        NDArray b = TorchNames.of(model).get("fc.bias").getArray();
        try (NDManager scope = b.getManager().newSubManager()) {
            b.set(scope.create(bias).toType(b.getDataType(), false).toByteBuffer());
        }
    }

    /** The readout applied to a state: the logits the model returns for that state. */
    private static NDArray readout(FeedbackBlock model, NDArray h) {
        NDArray classChannels = h.get(":, :{}", model.getClassChannels());
        return model.getReadout()
                .forward(
                        new ParameterStore(h.getManager(), false), new NDList(classChannels), false)
                .head();
    }

    @Test
    void oneChannelPerGroupScalesTheBiasFreeLogitsByCtAndKeepsTheTopClassOnlyForAConstantBias() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = input(m).toType(DataType.FLOAT64, false);
            FeedbackBlock model = resnet18(m, 8, DataType.FLOAT64, x);
            assertEquals(
                    0.0,
                    TorchNames.of(model).get("fc.bias").getArray().abs().max().getDouble(),
                    "fc.bias starts at 0");

            // zero bias: a run of T steps gives h_T = c_T h_1 and logits_T = c_T logits_1, so the
            // top class never changes
            NDArray[] states = new NDArray[MAX_T + 1];
            double worst = 0;
            NDArray logits1 = null;
            long[] top1 = null;
            for (int t = 1; t <= MAX_T; t++) {
                NDList out = run(model, x, t, false);
                states[t] = out.get(t);
                NDArray logits = out.get(0);
                if (t == 1) {
                    assertEquals(new Shape(BATCH, 520, 1, 1), states[1].getShape(), "1x1 state");
                    logits1 = logits;
                    top1 = logits.argMax(1).toLongArray();
                    continue;
                }
                // the feedback is uniform at every step, so every step adds the same update
                worst =
                        Math.max(
                                worst,
                                assertClose(
                                        "h_" + t + " = c_T h_1",
                                        states[t],
                                        states[1].mul(c(t)),
                                        1e-9));
                worst =
                        Math.max(
                                worst,
                                assertClose(
                                        "logits_" + t + " = c_T logits_1",
                                        logits,
                                        logits1.mul(c(t)),
                                        1e-9));
                assertArrayEquals(top1, logits.argMax(1).toLongArray(), "b = 0, T = " + t);
            }

            // a bias constant over classes: the same top class for every T
            float[] constant = new float[10];
            Arrays.fill(constant, 3.5f);
            setBias(model, constant);
            for (int t = 1; t <= MAX_T; t++) {
                long[] top = readout(model, states[t]).argMax(1).toLongArray();
                assertArrayEquals(top1, top, "constant b, T = " + t);
            }

            // a bias that differs between classes: logits_T - b = c_T (logits_1 - b) still, so
            // the top class of logits - b is fixed, but that of the logits may move. Built to
            // move for input 0: its two best classes k1, k2 (gap z1 - z2 > 0 without bias) get
            // b_k2 - b_k1 between the gap and c_2 times the gap; every other class gets -1, which
            // keeps it below k1 for every T
            double[] z = logits1.get(0).toDoubleArray();
            int k1 = argMax(z, -1);
            int k2 = argMax(z, k1);
            float[] bias = new float[10];
            Arrays.fill(bias, -1f);
            bias[k1] = 0f;
            bias[k2] = (float) ((1 + c(2)) / 2 * (z[k1] - z[k2]));
            setBias(model, bias);
            NDArray b = m.create(bias).toType(DataType.FLOAT64, false);
            for (int t = 1; t <= MAX_T; t++) {
                NDArray logits = readout(model, states[t]);
                assertClose("logits_" + t + " - b", logits.sub(b), logits1.mul(c(t)), 1e-9);
                assertArrayEquals(top1, logits.sub(b).argMax(1).toLongArray());
                assertEquals(t == 1 ? k2 : k1, logits.get(0).argMax().getLong(), "T = " + t);
            }
        }
    }

    private static int argMax(double[] v, int except) {
        int best = -1;
        for (int i = 0; i < v.length; i++) {
            if (i != except && (best < 0 || v[i] > v[best])) {
                best = i;
            }
        }
        return best;
    }

    // in training, BatchNorm normalises every step with the statistics of the same input, so the
    // steps are equal too; float64, since training-mode BatchNorm on a 1x1 map amplifies rounding
    @Test
    void trainingModeScalesTheStateByCtToo() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = input(m);
            FeedbackBlock model = resnet18(m, 8, DataType.FLOAT64, x);
            NDList out = run(model, x.toType(DataType.FLOAT64, false), 3, true);
            for (int t = 2; t <= 3; t++) {
                double e =
                        assertClose(
                                "h_" + t + " = c_T h_1", out.get(t), out.get(1).mul(c(t)), 1e-9);
                System.out.printf("uniform feedback, training, float64: h_%d error %.1e%n", t, e);
            }
        }
    }

    @Test
    void twoChannelsPerGroupFeedBackInformation() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = input(m);
            FeedbackBlock model = resnet18(m, 16, x);
            NDList out = run(model, x, 2, false);
            double e = Fixtures.error(out.get(2), out.get(1).mul(c(2)));
            assertTrue(e > 1e-2, "fb = 16: h_2 is not c_2 h_1 (error " + e + ")");
        }
    }
}
