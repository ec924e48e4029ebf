package dfbmodels.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.GroupNorm;
import dfbmodels.nn.Interpolation;
import org.junit.jupiter.api.Test;

class ConvergenceTraceTest {

    private static final Shape INPUT = new Shape(2, 1, 8, 8);

    private static FeedbackBlock model(NDManager m, float atol, boolean feedback) {
        Engine.getInstance().setRandomSeed(5);
        FeedbackBlock block = TinyModels.classifier(atol, feedback);
        block.initialize(m, DataType.FLOAT32, INPUT);
        return block;
    }

    private static NDArray gn(NDArray x, int groups) {
        NDManager m = x.getManager();
        long c = x.getShape().get(1);
        return GroupNorm.groupNorm(x, groups, m.ones(new Shape(c)), m.zeros(new Shape(c)), 1e-5);
    }

    private static double l1(NDArray a) {
        double s = 0;
        for (double v : a.toType(DataType.FLOAT64, false).toDoubleArray()) {
            s += Math.abs(v);
        }
        return s;
    }

    @Test
    void numbersMatchAHandComputedTwoStepLoop() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock block = model(m, 0f, true);
            NDArray x = m.randomUniform(0f, 1f, INPUT);
            // SPEC §2 by hand; Q orthogonal and S = 1 at initialisation: the op is exp(-t/tau)
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x0 = block.getFrontend().forward(ps, new NDList(x), false).head();
            Shape s0 = x0.getShape();
            NDArray f0 = m.ones(new Shape(2, TinyModels.FB, s0.get(2), s0.get(3))).div(4f);
            NDArray y0 =
                    block.getBody()
                            .forward(ps, new NDList(NDArrays.concat(new NDList(x0, f0), 1)), false)
                            .head();
            NDArray h1 = gn(y0, 4);
            NDArray f1 =
                    gn(
                                    Interpolation.bilinear(
                                            h1.get(new NDIndex(":, 8:")),
                                            s0.get(2),
                                            s0.get(3),
                                            false),
                                    2)
                            .softmax(1);
            NDArray y1 =
                    block.getBody()
                            .forward(ps, new NDList(NDArrays.concat(new NDList(x0, f1), 1)), false)
                            .head();
            NDArray h2 = h1.add(gn(y1, 4).mul(Math.exp(-1 / TinyModels.TAU)));

            ConvergenceTrace trace = ConvergenceTrace.of(block, x, 2);
            assertEquals(2, trace.getIterations());
            assertEquals(2, trace.getSteps());
            assertEquals(-1, trace.getEarlyStopStep());
            double[] sums = trace.getStateSums();
            assertEquals(l1(h1), sums[0], 1e-5 * sums[0]);
            assertEquals(l1(h2), sums[1], 1e-5 * sums[1]);
            double[] changes = trace.getRelativeChanges();
            assertEquals(1.0, changes[0]);
            double change = l1(h2.sub(h1)) / l1(h2);
            assertEquals(change, changes[1], 1e-5 * change);
            // the step-2 update is exp(-1/2) GN(y1), and GN(y1) has the L1 norm of GN(y0) to
            // within their differing statistics: a real change, well away from 0 and 1
            assertTrue(changes[1] > 0.1 && changes[1] < 0.9, "change " + changes[1]);
            // the block's own feedback of h1 is the f1 above
            NDArray fb = block.feedback(ps, h1, s0.get(2), s0.get(3));
            assertEquals(0f, fb.sub(f1).abs().max().getFloat(), 1e-6f);
        }
    }

    @Test
    void earlyStopStepIsTheLoopsOwnDecision() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomUniform(0f, 1f, INPUT);
            ConvergenceTrace full = ConvergenceTrace.of(model(m, 0f, true), x, 8);
            assertEquals(8, full.getSteps());
            assertEquals(-1, full.getEarlyStopStep());
            double[] s = full.getStateSums();
            // the smallest change of sum|h| among the checked steps k = 2 .. T-1 (1-based)
            int k = 2;
            for (int j = 3; j <= 7; j++) {
                if (Math.abs(s[j - 1] - s[j - 2]) < Math.abs(s[k - 1] - s[k - 2])) {
                    k = j;
                }
            }
            float atol = Math.nextUp((float) Math.abs(s[k - 1] - s[k - 2]));
            ConvergenceTrace stopped = ConvergenceTrace.of(model(m, atol, true), x, 8);
            assertEquals(k, stopped.getEarlyStopStep());
            assertEquals(Math.min(k + 1, 8), stopped.getSteps(), "the loop ran one more step");
            double[] prefix = new double[stopped.getSteps()];
            System.arraycopy(s, 0, prefix, 0, prefix.length);
            assertArrayEquals(prefix, stopped.getStateSums());
            // a huge tolerance fires at the first check: after step 2, so 3 steps run
            ConvergenceTrace first = ConvergenceTrace.of(model(m, 1e9f, true), x, 8);
            assertEquals(2, first.getEarlyStopStep());
            assertEquals(3, first.getSteps());
        }
    }

    @Test
    void twinRunsOneStepAndTheTraceLeavesNothingBehind() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock twin = model(m, 0f, false);
            NDArray x = m.randomUniform(0f, 1f, INPUT);
            int before = ((BaseNDManager) m).getManagedArrays().size();
            ConvergenceTrace trace = ConvergenceTrace.of(twin, x, 5);
            assertEquals(before, ((BaseNDManager) m).getManagedArrays().size());
            assertEquals(1, trace.getIterations());
            assertEquals(1, trace.getSteps());
            assertEquals(1.0, trace.getRelativeChanges()[0]);
            assertTrue(trace.getStateSums()[0] > 0);
            assertEquals(1, ConvergenceTrace.of(twin, x, 0).getSteps(), "one step whatever T");
            assertEquals(
                    "iterations (T) must be >= 0, got -1",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> ConvergenceTrace.of(twin, x, -1))
                            .getMessage());
            assertEquals(
                    "1 states cannot come from a forward of T=5 (the loop runs min(T, 3) to T"
                            + " steps)",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> ConvergenceTrace.fromStates(new NDList(x), 5, 0f, true))
                            .getMessage());
        }
    }
}
