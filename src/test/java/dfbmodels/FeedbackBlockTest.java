package dfbmodels;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import dfbmodels.nn.GroupNorm;
import dfbmodels.nn.Interpolation;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FeedbackBlockTest {

    private static final int CLASS_CHANNELS = 8;
    private static final int FB = 4;
    private static final float TAU = 2f;

    /** A tiny DFM: conv frontend, one strided conv as body, pooled linear readout. */
    static FeedbackBlock tiny(int iterations, float atol) {
        return tiny(iterations, atol, true);
    }

    static FeedbackBlock tiny(int iterations, float atol, boolean uniformShortcut) {
        return FeedbackBlock.builder()
                .setFrontend(new SequentialBlock().add(conv(4, 1)).add(Activation.reluBlock()))
                .setBody(new SequentialBlock().add(conv(CLASS_CHANNELS + FB, 2)))
                .setReadout(
                        new SequentialBlock()
                                .add(Pool.globalAvgPool2dBlock())
                                .add(Blocks.batchFlattenBlock())
                                .add(Linear.builder().setUnits(3).build()))
                .setClassChannels(CLASS_CHANNELS)
                .setFeedbackChannels(FB)
                .optErrorGroups(4)
                .optFeedbackGroups(2)
                .optIterations(iterations)
                .optAtol(atol)
                .optTau(TAU)
                .optUniformShortcut(uniformShortcut)
                .build();
    }

    private static Conv2d conv(int filters, int stride) {
        return Conv2d.builder()
                .setKernelShape(new Shape(3, 3))
                .setFilters(filters)
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(1, 1))
                .build();
    }

    /**
     * SPEC §2 written out with the block's own parts. With Q orthogonal and S = 1 (their initial
     * values) the state op is exp(-t/tau) times its input.
     */
    private static NDList reference(FeedbackBlock block, NDArray x, int steps, ParameterStore ps) {
        NDArray x0 = block.getFrontend().forward(ps, new NDList(x), false).head();
        Shape s0 = x0.getShape();
        NDArray h = null;
        NDList states = new NDList();
        for (int t = 0; t < steps; t++) {
            NDArray fb =
                    h == null
                            ? x.getManager()
                                    .zeros(
                                            new Shape(s0.get(0), FB, s0.get(2), s0.get(3)),
                                            x.getDataType())
                            : Interpolation.bilinear(
                                    h.get(new NDIndex(":, {}:", CLASS_CHANNELS)),
                                    s0.get(2),
                                    s0.get(3),
                                    false);
            NDArray ones = x.getManager().ones(new Shape(FB), x.getDataType());
            NDArray zeros = x.getManager().zeros(new Shape(FB), x.getDataType());
            NDArray f = GroupNorm.groupNorm(fb, 2, ones, zeros, 1e-5).softmax(1);
            NDArray y =
                    block.getBody()
                            .forward(ps, new NDList(NDArrays.concat(new NDList(x0, f), 1)), false)
                            .head();
            NDArray onesC = x.getManager().ones(new Shape(CLASS_CHANNELS + FB), x.getDataType());
            NDArray zerosC = x.getManager().zeros(new Shape(CLASS_CHANNELS + FB), x.getDataType());
            NDArray e = GroupNorm.groupNorm(y, 4, onesC, zerosC, 1e-5).mul(Math.exp(-t / TAU));
            h = h == null ? e : h.add(e);
            states.add(h);
        }
        NDArray out =
                block.getReadout()
                        .forward(
                                ps, new NDList(h.get(new NDIndex(":, :{}", CLASS_CHANNELS))), false)
                        .head();
        NDList result = new NDList(out);
        result.addAll(states);
        return result;
    }

    private static PairList<String, Object> params(Object... kv) {
        PairList<String, Object> p = new PairList<>();
        for (int i = 0; i < kv.length; i += 2) {
            p.add((String) kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void loopMatchesTheSpecForT013InBothPrecisions() {
        for (DataType type : new DataType[] {DataType.FLOAT64, DataType.FLOAT32}) {
            double tol = type == DataType.FLOAT64 ? 1e-10 : 1e-5;
            try (NDManager m = NDManager.newBaseManager()) {
                Engine.getInstance().setRandomSeed(1);
                FeedbackBlock block = tiny(3, 0f);
                Shape in = new Shape(2, 3, 8, 8);
                block.initialize(m, type, in);
                assertEquals(new Shape(2, 3), block.getOutputShapes(new Shape[] {in})[0]);
                NDArray x = m.randomNormal(new Shape(2, 3, 8, 8)).toType(type, false);
                ParameterStore ps = new ParameterStore(m, false);
                for (int steps : new int[] {1, 3}) {
                    NDList got =
                            block.forward(
                                    ps,
                                    new NDList(x),
                                    false,
                                    params(
                                            FeedbackBlock.ITERATIONS,
                                            steps,
                                            FeedbackBlock.RETURN_STATES,
                                            true));
                    NDList want = reference(block, x, steps, ps);
                    assertEquals(steps + 1, got.size());
                    assertEquals(type, got.head().getDataType());
                    for (int i = 0; i <= steps; i++) {
                        assertClose(
                                type + " T=" + steps + " output " + i,
                                got.get(i),
                                want.get(i),
                                tol);
                    }
                }
                // T = 0: the readout of the zero state is the readout's bias
                NDArray zeroT =
                        block.forward(ps, new NDList(x), false, params(FeedbackBlock.ITERATIONS, 0))
                                .head();
                NDArray bias = block.getReadout().getParameters().get("03Linear_bias").getArray();
                assertClose("T=0", zeroT, bias.broadcast(new Shape(2, 3)), tol);
                // the default T of the builder applies without params
                assertEquals(1, block.forward(ps, new NDList(x), false).size());
                assertClose(
                        "default T=3",
                        block.forward(ps, new NDList(x), false).head(),
                        reference(block, x, 3, ps).head(),
                        tol);
            }
        }
    }

    private static int stepsRun(FeedbackBlock block, NDManager m, int iterations) {
        NDArray x = m.randomNormal(new Shape(2, 3, 8, 8));
        NDList out =
                block.forward(
                        new ParameterStore(m, false),
                        new NDList(x),
                        false,
                        params(
                                FeedbackBlock.ITERATIONS,
                                iterations,
                                FeedbackBlock.RETURN_STATES,
                                true));
        return out.size() - 1;
    }

    @Test
    void earlyStopRunsOneFinalStepAfterConvergence() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(2, 3, 8, 8);
            // a huge tolerance is met at the first comparison (t = 1): steps 0, 1 and a final 2
            FeedbackBlock loose = tiny(10, 1e9f);
            loose.initialize(m, DataType.FLOAT32, in);
            assertEquals(3, stepsRun(loose, m, 10));
            assertEquals(2, stepsRun(loose, m, 2));
            assertEquals(1, stepsRun(loose, m, 1));
            // sum|h| keeps changing by far more than 1e-30: no early stop
            FeedbackBlock strict = tiny(6, 1e-30f);
            strict.initialize(m, DataType.FLOAT32, in);
            assertEquals(6, stepsRun(strict, m, 6));
            // atol <= 0 turns the check off
            FeedbackBlock off = tiny(7, 0f);
            off.initialize(m, DataType.FLOAT32, in);
            assertEquals(7, stepsRun(off, m, 7));
        }
    }

    @Test
    void earlyStopComparesConsecutiveSumsOfTheState() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(2, 3, 8, 8);
            FeedbackBlock off = tiny(8, 0f);
            Engine.getInstance().setRandomSeed(3);
            off.initialize(m, DataType.FLOAT64, in);
            NDArray x = m.randomNormal(in).toType(DataType.FLOAT64, false);
            ParameterStore ps = new ParameterStore(m, false);
            NDList states =
                    off.forward(
                            ps, new NDList(x), false, params(FeedbackBlock.RETURN_STATES, true));
            double[] sums = new double[8];
            for (int i = 0; i < 8; i++) {
                sums[i] = states.get(i + 1).abs().sum().getDouble();
            }
            // choose atol between the change after step 3 and the changes before it
            int expectedStop = -1;
            double atol = 0;
            for (int t = 1; t < 7; t++) {
                double change = Math.abs(sums[t] - sums[t - 1]);
                boolean smallerThanAllBefore = true;
                for (int u = 1; u < t; u++) {
                    smallerThanAllBefore &= change < Math.abs(sums[u] - sums[u - 1]);
                }
                if (t >= 2 && smallerThanAllBefore) {
                    expectedStop = t + 2;
                    double before = Double.MAX_VALUE;
                    for (int u = 1; u < t; u++) {
                        before = Math.min(before, Math.abs(sums[u] - sums[u - 1]));
                    }
                    atol = (change + before) / 2;
                    break;
                }
            }
            assertTrue(expectedStop > 0, "the state's sum should settle");
            FeedbackBlock stopping = tiny(8, (float) atol);
            stopping.initialize(m, DataType.FLOAT64, in);
            // same weights
            for (int i = 0; i < off.getParameters().size(); i++) {
                NDArray src = off.getParameters().valueAt(i).getArray();
                stopping.getParameters().valueAt(i).getArray().set(src.toByteBuffer());
            }
            NDList got =
                    stopping.forward(
                            ps, new NDList(x), false, params(FeedbackBlock.RETURN_STATES, true));
            assertEquals(expectedStop, got.size() - 1);
            assertClose(
                    "states before the stop",
                    got.get(expectedStop),
                    states.get(expectedStop),
                    1e-12);
        }
    }

    @Test
    void gradientsReachTheFrontendAndMatchFiniteDifferences() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            FeedbackBlock block = tiny(3, 0f);
            Shape in = new Shape(2, 3, 8, 8);
            block.initialize(m, DataType.FLOAT64, in);
            NDArray x = m.randomNormal(in).toType(DataType.FLOAT64, false);
            NDArray w = block.getFrontend().getParameters().get("01Conv2d_weight").getArray();
            double analytic;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss =
                        block.forward(new ParameterStore(m, false), new NDList(x), true)
                                .head()
                                .square()
                                .sum();
                gc.backward(loss);
                NDArray grad = w.getGradient();
                assertTrue(grad.abs().sum().getDouble() > 0);
                analytic = grad.getDouble(1, 2, 0, 1);
            }
            double h = 1e-6;
            double[] losses = new double[2];
            for (int k = 0; k < 2; k++) {
                double old = w.getDouble(1, 2, 0, 1);
                w.set(new NDIndex(1, 2, 0, 1), old + (k == 0 ? h : -h));
                losses[k] =
                        block.forward(new ParameterStore(m, false), new NDList(x), false)
                                .head()
                                .square()
                                .sum()
                                .getDouble();
                w.set(new NDIndex(1, 2, 0, 1), old);
            }
            double numeric = (losses[0] - losses[1]) / (2 * h);
            assertEquals(numeric, analytic, 1e-6 * Math.max(1, Math.abs(numeric)));
        }
    }

    private static DefaultTrainingConfig adam() {
        return new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(
                        Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build());
    }

    /** One forward, backward and optimiser step; returns the loss before the step. */
    private static float trainStep(Trainer trainer, NDArray x, NDArray labels) {
        float loss;
        try (GradientCollector gc = trainer.newGradientCollector()) {
            NDArray pred = trainer.forward(new NDList(x)).head();
            NDArray l = trainer.getLoss().evaluate(new NDList(labels), new NDList(pred));
            gc.backward(l);
            loss = l.getFloat();
        }
        trainer.step();
        return loss;
    }

    @Test
    void trainerLowersTheLossOnAToyProblem() {
        Engine.getInstance().setRandomSeed(11);
        try (Model model = Model.newInstance("toy");
                NDManager m = NDManager.newBaseManager()) {
            model.setBlock(tiny(3, 0f));
            try (Trainer trainer = model.newTrainer(adam())) {
                Shape in = new Shape(32, 3, 8, 8);
                trainer.initialize(in);
                // class k has its mean shifted in channel k
                NDArray labels = m.arange(32).toType(DataType.INT32, false).mod(3);
                NDArray x = m.randomNormal(in);
                NDArray shift = labels.oneHot(3).reshape(32, 3, 1, 1).mul(1.5f);
                x = x.add(shift);
                float first = 0;
                float last = 0;
                for (int i = 0; i < 40; i++) {
                    last = trainStep(trainer, x, labels);
                    if (i == 0) {
                        first = last;
                    }
                }
                assertTrue(last < 0.5f * first, "loss " + first + " -> " + last);
            }
        }
    }

    @Test
    void uniformShortcutTrainsLikeTheOriginalButLeavesQAlone() {
        float[][] losses = new float[2][6];
        for (int run = 0; run < 2; run++) {
            boolean shortcut = run == 0;
            Engine.getInstance().setRandomSeed(5);
            try (Model model = Model.newInstance("toy");
                    NDManager m = NDManager.newBaseManager()) {
                FeedbackBlock block = tiny(3, 0f, shortcut);
                model.setBlock(block);
                try (Trainer trainer = model.newTrainer(adam())) {
                    Shape in = new Shape(16, 3, 8, 8);
                    trainer.initialize(in);
                    NDArray labels = m.arange(16).toType(DataType.INT32, false).mod(3);
                    NDArray x = m.randomNormal(in);
                    NDArray q = block.getStateOp().getParameters().get("Q").getArray();
                    NDArray qAfterFirstStep = null;
                    for (int i = 0; i < losses[run].length; i++) {
                        losses[run][i] = trainStep(trainer, x, labels);
                        if (i == 0) {
                            qAfterFirstStep = q.duplicate();
                        }
                    }
                    float moved = q.sub(qAfterFirstStep).abs().max().getFloat();
                    if (shortcut) {
                        assertEquals(0f, moved, "Adam leaves Q alone under the shortcut");
                    } else {
                        assertTrue(moved > 1e-3f, "Q is trained without the shortcut: " + moved);
                    }
                }
            }
        }
        // the loss moves (2.42 -> 1.15 here) and both runs agree to rounding
        assertTrue(
                losses[0][5] < 0.6f * losses[0][0], "loss " + losses[0][0] + " -> " + losses[0][5]);
        for (int i = 0; i < losses[0].length; i++) {
            assertEquals(losses[1][i], losses[0][i], 1e-5 * losses[1][i], "loss at step " + i);
        }
    }

    @Test
    void inferenceKeepsNoArraysPerStep() {
        try (NDManager model = NDManager.newBaseManager()) {
            FeedbackBlock block = tiny(1, 0f);
            Shape in = new Shape(2, 3, 8, 8);
            block.initialize(model, DataType.FLOAT32, in);
            int[] left = new int[2];
            int[] steps = {1, 25};
            for (int i = 0; i < 2; i++) {
                int before = ((BaseNDManager) model).getManagedArrays().size();
                try (NDManager batch = model.newSubManager()) {
                    NDArray x = batch.randomNormal(in);
                    block.forward(
                            new ParameterStore(batch, false),
                            new NDList(x),
                            false,
                            params(FeedbackBlock.ITERATIONS, steps[i]));
                    left[i] = ((BaseNDManager) batch).getManagedArrays().size();
                }
                assertEquals(
                        before,
                        ((BaseNDManager) model).getManagedArrays().size(),
                        "model's manager");
            }
            assertEquals(left[0], left[1], "arrays left in the input's manager, T=1 vs T=25");
        }
    }

    @Test
    void rejectsBadConfigurationAndIterations() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> tiny(-1, 0f));
        assertEquals("iterations (T) must be >= 0, got -1", e.getMessage());
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = tiny(2, 0f);
            block.initialize(m, DataType.FLOAT32, new Shape(1, 3, 8, 8));
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    block.forward(
                                            new ParameterStore(m, false),
                                            new NDList(m.zeros(new Shape(1, 3, 8, 8))),
                                            false,
                                            params(FeedbackBlock.ITERATIONS, -2)));
            assertEquals(
                    "\"iterations\" must be an integral Number (Integer, Long, Short, Byte,"
                            + " BigInteger, AtomicInteger or AtomicLong) in 0 .. 2147483647, got -2"
                            + " (Integer)",
                    e.getMessage());
        }
    }

    @Test
    void iterationsAcceptAnyIntegralNumberInRange() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = tiny(5, 0f);
            Shape in = new Shape(1, 3, 8, 8);
            block.initialize(m, DataType.FLOAT64, in);
            NDArray x = m.randomNormal(in).toType(DataType.FLOAT64, false);
            ParameterStore ps = new ParameterStore(m, false);
            NDList want =
                    block.forward(
                            ps,
                            new NDList(x),
                            false,
                            params(FeedbackBlock.ITERATIONS, 3, FeedbackBlock.RETURN_STATES, true));
            assertEquals(4, want.size());
            Object[] threes = {
                3L,
                (short) 3,
                (byte) 3,
                BigInteger.valueOf(3),
                new AtomicInteger(3),
                new AtomicLong(3)
            };
            for (Object three : threes) {
                NDList got =
                        block.forward(
                                ps,
                                new NDList(x),
                                false,
                                params(
                                        FeedbackBlock.ITERATIONS,
                                        three,
                                        FeedbackBlock.RETURN_STATES,
                                        true));
                String what = three.getClass().getSimpleName();
                assertEquals(4, got.size(), what);
                assertClose(what, got.head(), want.head(), 0);
            }
        }
    }

    @Test
    void iterationsOfOtherTypesOrOutOfRangeNameTheTypeReceived() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = tiny(2, 0f);
            Shape in = new Shape(1, 3, 8, 8);
            block.initialize(m, DataType.FLOAT32, in);
            NDArray x = m.zeros(in);
            String valid =
                    "\"iterations\" must be an integral Number (Integer, Long, Short, Byte,"
                            + " BigInteger, AtomicInteger or AtomicLong) in 0 .. 2147483647, got ";
            Object[][] cases = {
                {"3", "\"3\" (String)"},
                {3.0, "3.0 (Double)"},
                {3f, "3.0 (Float)"},
                {-1L, "-1 (Long)"},
                {(byte) -1, "-1 (Byte)"},
                {2147483648L, "2147483648 (Long)"},
                {BigInteger.ONE.shiftLeft(64), "18446744073709551616 (BigInteger)"},
                {new BigDecimal("3"), "3 (BigDecimal)"},
                {null, "null"}
            };
            for (Object[] c : cases) {
                IllegalArgumentException e =
                        assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        block.forward(
                                                new ParameterStore(m, false),
                                                new NDList(x),
                                                false,
                                                params(FeedbackBlock.ITERATIONS, c[0])));
                assertEquals(valid + c[1], e.getMessage());
            }
        }
    }
}
