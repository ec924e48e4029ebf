package dfbmodels;

import static dfbmodels.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.PairList;
import org.junit.jupiter.api.Test;

/** Per-step readouts of the loop and the deep-supervision loss over them. */
class DeepSupervisionTest {

    private static PairList<String, Object> params(Object... kv) {
        PairList<String, Object> p = new PairList<>();
        for (int i = 0; i < kv.length; i += 2) {
            p.add((String) kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void readoutsAreTheReadoutOfEveryStateInOrder() {
        Engine.getInstance().setRandomSeed(11);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = FeedbackBlockTest.tiny(3, 0f);
            block.initialize(m, DataType.FLOAT32, new Shape(2, 3, 8, 8));
            NDArray x = m.randomNormal(new Shape(2, 3, 8, 8));
            ParameterStore ps = new ParameterStore(m, false);
            NDList out =
                    block.forward(
                            ps,
                            new NDList(x),
                            false,
                            params(
                                    FeedbackBlock.RETURN_READOUTS,
                                    true,
                                    FeedbackBlock.RETURN_STATES,
                                    true));
            // [readout, r_1, r_2, r_3, h_1, h_2, h_3]
            assertEquals(7, out.size());
            NDList readouts = FeedbackBlock.stepReadouts(out);
            assertEquals(3, readouts.size());
            assertSame(out.head(), readouts.get(2), "the output is the last step's readout");
            for (int i = 0; i < 3; i++) {
                assertEquals("readout." + (i + 1), readouts.get(i).getName());
                NDArray state = out.get(4 + i);
                assertEquals("state." + (i + 1), state.getName());
                NDArray want =
                        block.getReadout()
                                .forward(ps, new NDList(state.get(new NDIndex(":, :8"))), false)
                                .head();
                assertClose("readout of step " + (i + 1), readouts.get(i), want, 0);
            }
            NDArray plain = block.forward(ps, new NDList(x), false).singletonOrThrow();
            assertClose("same final output without readouts", out.head(), plain, 0);
            // the builder's default and its override by the key
            FeedbackBlock always =
                    FeedbackBlock.builder()
                            .setFrontend(block.getFrontend())
                            .setBody(block.getBody())
                            .setReadout(block.getReadout())
                            .setClassChannels(8)
                            .setFeedbackChannels(4)
                            .optErrorGroups(4)
                            .optFeedbackGroups(2)
                            .optIterations(2)
                            .optAtol(0f)
                            .optStepReadouts(true)
                            .build();
            always.initialize(m, DataType.FLOAT32, new Shape(2, 3, 8, 8));
            assertEquals(3, always.forward(ps, new NDList(x), false).size());
            assertEquals(
                    1,
                    always.forward(
                                    ps,
                                    new NDList(x),
                                    false,
                                    params(FeedbackBlock.RETURN_READOUTS, false))
                            .size());
        }
    }

    @Test
    void deepSupervisionIsTheMeanOrWeightedMeanOfTheStepLosses() {
        Engine.getInstance().setRandomSeed(12);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = FeedbackBlockTest.tiny(3, 0f);
            block.initialize(m, DataType.FLOAT32, new Shape(4, 3, 8, 8));
            NDArray x = m.randomNormal(new Shape(4, 3, 8, 8));
            NDArray y = m.create(new long[] {0, 2, 1, 2});
            NDList out =
                    block.forward(
                            new ParameterStore(m, false),
                            new NDList(x),
                            false,
                            params(FeedbackBlock.RETURN_READOUTS, true));
            Loss ce = Loss.softmaxCrossEntropyLoss();
            NDList readouts = FeedbackBlock.stepReadouts(out);
            double[] step = new double[3];
            for (int i = 0; i < 3; i++) {
                step[i] = ce.evaluate(new NDList(y), new NDList(readouts.get(i))).getFloat();
            }
            // the steps differ, so the mean is not any single one of them
            assertTrue(Math.abs(step[0] - step[2]) > 1e-4, step[0] + " vs " + step[2]);
            double mean = (step[0] + step[1] + step[2]) / 3;
            assertEquals(
                    mean,
                    new DeepSupervisionLoss(ce).evaluate(new NDList(y), out).getFloat(),
                    1e-6);
            double weighted = (step[0] * 1 + step[2] * 3) / 4;
            assertEquals(
                    weighted,
                    new DeepSupervisionLoss("ds", ce, 1, 0, 3)
                            .evaluate(new NDList(y), out)
                            .getFloat(),
                    1e-6);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    new DeepSupervisionLoss(ce)
                                            .evaluate(new NDList(y), new NDList(out.head())));
            assertTrue(e.getMessage().contains("optStepReadouts(true)"), e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    new DeepSupervisionLoss("ds", ce, 1, 1)
                                            .evaluate(new NDList(y), out));
            assertEquals(
                    "got 2 step weights for 3 steps; give one weight per step", e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> new DeepSupervisionLoss("ds", ce, 1, -1));
            assertEquals("step weights must be >= 0 and finite, got [1.0, -1.0]", e.getMessage());
        }
    }

    @Test
    void trainsThroughDjlsTrainerWithEveryStepSupervised() {
        Engine.getInstance().setRandomSeed(13);
        try (Model model = Model.newInstance("ds")) {
            FeedbackBlock parts = FeedbackBlockTest.tiny(1, 0f);
            FeedbackBlock block =
                    FeedbackBlock.builder()
                            .setFrontend(parts.getFrontend())
                            .setBody(parts.getBody())
                            .setReadout(parts.getReadout())
                            .setClassChannels(8)
                            .setFeedbackChannels(4)
                            .optErrorGroups(4)
                            .optFeedbackGroups(2)
                            .optIterations(3)
                            .optAtol(0f)
                            .optStepReadouts(true)
                            .build();
            model.setBlock(block);
            Loss ds = new DeepSupervisionLoss(new SoftmaxCrossEntropyLoss());
            try (Trainer trainer =
                            model.newTrainer(
                                    new DefaultTrainingConfig(ds)
                                            .optOptimizer(Optimizer.adam().build()));
                    NDManager m = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(4, 3, 8, 8));
                NDArray x = m.randomNormal(new Shape(4, 3, 8, 8));
                NDArray y = m.create(new long[] {0, 2, 1, 2});
                float first = 0;
                float last = 0;
                for (int i = 0; i < 5; i++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDList out = trainer.forward(new NDList(x));
                        assertEquals(4, out.size(), "[readout, r_1, r_2, r_3]");
                        NDArray loss = trainer.getLoss().evaluate(new NDList(y), out);
                        gc.backward(loss);
                        last = loss.getFloat();
                        first = i == 0 ? last : first;
                    }
                    trainer.step();
                }
                assertTrue(last < first, "loss " + first + " -> " + last);
            }
        }
    }

    /** Gradient sum over all parameters after one backward of a weighted deep-supervision loss. */
    private static double gradientSum(
            FeedbackBlock block, NDManager m, NDArray x, NDArray y, boolean scrambleMemory) {
        Loss ds = new DeepSupervisionLoss("ds", new SoftmaxCrossEntropyLoss(), 1, 2, 3);
        try (NDManager s = m.newSubManager();
                GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
            s.tempAttachAll(x, y);
            NDList out =
                    block.forward(
                            new ParameterStore(s, false),
                            new NDList(x),
                            true,
                            params(FeedbackBlock.RETURN_READOUTS, true));
            NDArray loss = ds.evaluate(new NDList(y), out);
            if (scrambleMemory) {
                // free the buffers of closed arrays and reuse them with other values
                for (int i = 0; i < 3; i++) {
                    System.gc();
                    for (int k = 0; k < 2000; k++) {
                        s.create(1e-9f).close();
                        s.create(1e-9).close();
                    }
                }
            }
            gc.backward(loss);
        }
        double sum = 0;
        for (ai.djl.nn.Parameter p : block.getParameters().values()) {
            if (p.requiresGradient()) {
                NDArray grad = p.getArray().getGradient();
                sum += grad.abs().sum().getFloat();
                grad.subi(grad);
            }
        }
        return sum;
    }

    @Test
    void gradientsDoNotDependOnWhatHappensToClosedArraysBeforeBackward() {
        // regression: the time factor and the step weights were multiplied in with mul(Number),
        // whose operand autograd keeps but DJL frees on close: one backward in ~4 was garbage
        Engine.getInstance().setRandomSeed(14);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock parts = FeedbackBlockTest.tiny(1, 0f);
            FeedbackBlock block =
                    FeedbackBlock.builder()
                            .setFrontend(parts.getFrontend())
                            .setBody(parts.getBody())
                            .setReadout(parts.getReadout())
                            .setClassChannels(8)
                            .setFeedbackChannels(4)
                            .optErrorGroups(4)
                            .optFeedbackGroups(2)
                            .optIterations(3)
                            .optAtol(0f)
                            .optTimeFactor(dfbmodels.state.TimeFactor.fractional(1.5))
                            .build();
            block.initialize(m, DataType.FLOAT32, new Shape(4, 3, 8, 8));
            NDArray x = m.randomNormal(new Shape(4, 3, 8, 8));
            NDArray y = m.create(new long[] {0, 2, 1, 2});
            double clean = gradientSum(block, m, x, y, false);
            assertTrue(clean > 0);
            for (int i = 0; i < 3; i++) {
                assertEquals(clean, gradientSum(block, m, x, y, true), 1e-6 * clean, "run " + i);
            }
        }
    }
}
