package dfbmodels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;
import java.util.Arrays;

/**
 * Deep supervision: a given loss applied to the readout of every step of a {@link FeedbackBlock},
 * averaged over the steps (optionally weighted).
 *
 * <pre>
 *   L = sum_i w_i * base(labels, r_i) / sum_i w_i          i = 1 .. n (the steps run)
 * </pre>
 *
 * <p>The predictions must hold the per-step readouts {@code r_i}: build the model with {@code
 * optStepReadouts(true)} (then DJL's {@code Trainer} and {@code EasyTrain} work unchanged) or pass
 * {@link FeedbackBlock#RETURN_READOUTS} to {@code forward}. The original feedback U-Net (SPEC §6)
 * supervises every step with equal weights; without this loss a model is supervised on its last
 * step only.
 */
public class DeepSupervisionLoss extends Loss {

    private final Loss base;
    private final float[] weights;

    /**
     * Averages {@code base} over the steps with equal weights.
     *
     * @param base the loss of one step, e.g. {@code new SoftmaxCrossEntropyLoss("ce", 1, 1, true,
     *     true)} for per-pixel class indices of shape {@code (B, 1, H, W)}
     */
    public DeepSupervisionLoss(Loss base) {
        this("DeepSupervision(" + base.getName() + ")", base);
    }

    /**
     * Averages {@code base} over the steps with the given weights, normalised by their sum over the
     * steps run.
     *
     * @param name the loss's name
     * @param base the loss of one step
     * @param weights the weight of steps 1, 2, ... (none: equal weights); at least as many as the
     *     steps run, non-negative, not all zero
     * @throws IllegalArgumentException if a weight is negative or not finite
     */
    public DeepSupervisionLoss(String name, Loss base, float... weights) {
        super(name);
        if (base == null) {
            throw new IllegalArgumentException("base loss must not be null");
        }
        for (float w : weights) {
            if (!(w >= 0) || Float.isInfinite(w)) {
                throw new IllegalArgumentException(
                        "step weights must be >= 0 and finite, got " + Arrays.toString(weights));
            }
        }
        this.base = base;
        this.weights = weights.clone();
    }

    /**
     * Returns the loss of one step.
     *
     * @return the base loss
     */
    public Loss getBase() {
        return base;
    }

    /**
     * Computes the (weighted) mean of the base loss over the per-step readouts.
     *
     * @param labels the labels, as {@code base} expects them
     * @param predictions a {@link FeedbackBlock} output holding per-step readouts
     * @return the loss, as {@code base} returns it (a scalar for DJL's losses)
     * @throws IllegalArgumentException if {@code predictions} holds no per-step readouts, or fewer
     *     weights were given than steps were run
     */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDList readouts = FeedbackBlock.stepReadouts(predictions);
        int n = readouts.size();
        if (n == 0) {
            throw new IllegalArgumentException(
                    "deep supervision needs the readout of every step, but the predictions hold "
                            + predictions.size()
                            + " array(s) and no per-step readouts: build the model with"
                            + " optStepReadouts(true) or pass FeedbackBlock.RETURN_READOUTS=true"
                            + " to forward");
        }
        if (weights.length > 0 && weights.length < n) {
            throw new IllegalArgumentException(
                    "got "
                            + weights.length
                            + " step weights for "
                            + n
                            + " steps; give one weight per step");
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += weight(i);
        }
        if (!(total > 0)) {
            throw new IllegalArgumentException(
                    "the weights of the " + n + " steps run sum to 0: " + Arrays.toString(weights));
        }
        NDArray sum = null;
        for (int i = 0; i < n; i++) {
            float w = weight(i);
            if (w == 0) {
                continue;
            }
            NDArray step = base.evaluate(labels, new NDList(readouts.get(i)));
            // not mul(float): autograd keeps the weight, see Scalars
            NDArray weighted = step.mul(Scalars.of(step, w / total));
            sum = sum == null ? weighted : sum.add(weighted);
        }
        return sum;
    }

    private float weight(int step) {
        return weights.length == 0 ? 1f : weights[step];
    }
}
