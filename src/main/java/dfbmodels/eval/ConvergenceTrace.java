package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import java.util.Arrays;

/**
 * How the state of one forward converged: for every step {@code t = 1 .. n} (the state {@code h_t}
 * after the {@code t}-th body pass, {@code n} the steps run)
 *
 * <ul>
 *   <li>{@code sum|h_t|}, the L1 norm of the state over the whole batch, which the loop's early
 *       stop compares ({@code SPEC §2});
 *   <li>the relative change {@code |h_t − h_(t−1)| / |h_t|}, in the same L1 norm over the whole
 *       batch; {@code h_0} is the initial state, zeros by default, so step 1's change is 1 (NaN
 *       with {@link FeedbackBlock#getInitialStateStd() a Gaussian initial state}, which the forward
 *       does not return);
 * </ul>
 *
 * <p>and the step at which early stop fired: the state {@code h_k} whose {@code sum|h_k|} differed
 * from {@code sum|h_(k−1)|} by at most {@code atol}, after which the loop ran one final step
 * ({@code n = k + 1}); {@code -1} when it did not fire. The loop checks after steps {@code k = 2 ..
 * T−1} (1-based), so firing at {@code k = T−1} does not shorten the run.
 *
 * <p>Plain data: nothing is printed. The numbers are computed from the states that {@link
 * FeedbackBlock#RETURN_STATES} returns, with the same float operations as the loop ({@code
 * h.abs().sum()} in the state's data type, then widened to double), so the early-stop step is the
 * loop's own decision.
 */
public final class ConvergenceTrace {

    private final int iterations;
    private final double[] stateSums;
    private final double[] relativeChanges;
    private final int earlyStopStep;

    private ConvergenceTrace(
            int iterations, double[] stateSums, double[] relativeChanges, int earlyStopStep) {
        this.iterations = iterations;
        this.stateSums = stateSums;
        this.relativeChanges = relativeChanges;
        this.earlyStopStep = earlyStopStep;
    }

    /**
     * Runs one inference forward of {@code model} on {@code x} for {@code iterations} steps and
     * traces it. Intermediates are freed; {@code x}'s manager holds nothing new afterwards.
     *
     * @param model an initialised feedback model
     * @param x the input {@code (B, C, H, W)}, on the model's device and in its data type
     * @param iterations T, {@code >= 0} (a feedforward twin runs one step whatever T)
     * @return the trace
     * @throws IllegalArgumentException if {@code iterations} is negative or the input is invalid
     *     for the model
     */
    public static ConvergenceTrace of(FeedbackBlock model, NDArray x, int iterations) {
        if (iterations < 0) {
            throw new IllegalArgumentException("iterations (T) must be >= 0, got " + iterations);
        }
        NDManager parent = x.getManager();
        try (NDManager scope = parent.newSubManager()) {
            scope.tempAttachAll(x);
            PairList<String, Object> params = new PairList<>();
            params.add(FeedbackBlock.ITERATIONS, iterations);
            params.add(FeedbackBlock.RETURN_STATES, true);
            NDList out =
                    model.forward(new ParameterStore(scope, false), new NDList(x), false, params);
            NDList states = out.subNDList(1);
            return fromStates(
                    states,
                    model.isFeedback() ? iterations : 1,
                    model.getAtol(),
                    model.getInitialStateStd() == 0);
        }
    }

    /**
     * Traces states you already have, e.g. {@code output.subNDList(1)} of a forward with {@link
     * FeedbackBlock#RETURN_STATES}.
     *
     * @param states {@code h_1 .. h_n}, all of one shape
     * @param iterations the T the forward was asked for ({@code 1} for a feedforward twin)
     * @param atol the model's early-stop tolerance ({@link FeedbackBlock#getAtol()}; {@code <= 0}:
     *     off)
     * @param zeroInitialState whether the loop started from zeros (the default), which makes step
     *     1's relative change 1
     * @return the trace
     * @throws IllegalArgumentException if there are more states than iterations, or fewer than the
     *     loop can have run
     */
    public static ConvergenceTrace fromStates(
            NDList states, int iterations, float atol, boolean zeroInitialState) {
        int n = states.size();
        if (n > iterations || (iterations > 0 && n < Math.min(iterations, 3))) {
            throw new IllegalArgumentException(
                    n
                            + " states cannot come from a forward of T="
                            + iterations
                            + " (the loop runs min(T, 3) to T steps)");
        }
        double[] sums = new double[n];
        double[] changes = new double[n];
        int fired = -1;
        for (int t = 0; t < n; t++) {
            NDArray h = states.get(t);
            // exactly the loop's early-stop sum: in the state's type, then widened
            try (NDArray abs = h.abs()) {
                sums[t] = l1(abs);
            }
            if (t == 0) {
                changes[t] = zeroInitialState ? (sums[0] == 0 ? Double.NaN : 1.0) : Double.NaN;
            } else {
                try (NDArray diff = h.sub(states.get(t - 1));
                        NDArray abs = diff.abs()) {
                    changes[t] = l1(abs) / sums[t];
                }
            }
            // the loop checks after 0-based step t in 1 .. T-2 (1-based state t+1)
            if (atol > 0 && fired < 0 && t >= 1 && t <= iterations - 2) {
                if (Math.abs(sums[t] - sums[t - 1]) <= atol) {
                    fired = t + 1;
                }
            }
        }
        return new ConvergenceTrace(iterations, sums, changes, fired);
    }

    private static double l1(NDArray abs) {
        try (NDArray sum = abs.sum();
                NDArray wide = sum.toType(DataType.FLOAT64, false)) {
            return wide.getDouble();
        }
    }

    /**
     * Returns the T the forward was asked for.
     *
     * @return T
     */
    public int getIterations() {
        return iterations;
    }

    /**
     * Returns the number of steps run, {@code n}.
     *
     * @return {@code n <= T}; less than T only after an early stop
     */
    public int getSteps() {
        return stateSums.length;
    }

    /**
     * Returns {@code sum|h_t|} over the whole batch for {@code t = 1 .. n}.
     *
     * @return a copy; element {@code i} is step {@code i + 1}
     */
    public double[] getStateSums() {
        return stateSums.clone();
    }

    /**
     * Returns {@code |h_t − h_(t−1)| / |h_t|} (L1 over the whole batch) for {@code t = 1 .. n}.
     *
     * @return a copy; element {@code i} is step {@code i + 1}
     */
    public double[] getRelativeChanges() {
        return relativeChanges.clone();
    }

    /**
     * Returns the 1-based step {@code k} after which early stop fired (the loop then ran step
     * {@code k + 1} and stopped), or {@code -1}.
     *
     * @return the step, or {@code -1} if early stop did not fire
     */
    public int getEarlyStopStep() {
        return earlyStopStep;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "ConvergenceTrace{T="
                + iterations
                + ", steps="
                + getSteps()
                + ", sum|h|="
                + Arrays.toString(stateSums)
                + ", relativeChange="
                + Arrays.toString(relativeChanges)
                + ", earlyStopStep="
                + earlyStopStep
                + "}";
    }
}
