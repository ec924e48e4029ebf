package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The state operator {@code E_t} of a feedback loop: maps the normalised body output {@code (B, C,
 * H, W)} at step {@code t} to the state's increment, the same map on the channel vector of every
 * pixel.
 *
 * <p>Two are provided: {@link StateExpDecay} ({@code Qᵀ·diag(d)·Q}, {@code Q} kept orthogonal; the
 * feedback ResNets and DeepLabV3+, SPEC §1) and {@link GeneralStateExpDecay} ({@code
 * Qinv·diag(d)·Q} with independent trainable {@code Q} and {@code Qinv}; the feedback U-Net, SPEC
 * §6).
 */
public interface StateOperator extends Block {

    /**
     * The key of the step index {@code t} (an {@link Integer}, {@link Long}, {@link Short} or
     * {@link Byte} from 0) in {@code forward}'s params; without it, {@code t = 0}.
     */
    String STEP = "step";

    /**
     * Returns the step index {@code forward}'s params give under {@link #STEP}.
     *
     * @param params the params of a {@code forward} call, or {@code null}
     * @return the step, 0 if {@code params} is {@code null} or has no {@link #STEP}
     * @throws IllegalArgumentException if the value is not an {@code Integer}, {@code Long}, {@code
     *     Short} or {@code Byte} in {@code 0 .. Integer.MAX_VALUE}
     */
    static int step(PairList<String, Object> params) {
        if (params == null || !params.contains(STEP)) {
            return 0;
        }
        Object value = params.get(STEP);
        boolean integral =
                value instanceof Integer
                        || value instanceof Long
                        || value instanceof Short
                        || value instanceof Byte;
        if (integral) {
            long t = ((Number) value).longValue();
            if (t >= 0 && t <= Integer.MAX_VALUE) {
                return (int) t;
            }
        }
        throw new IllegalArgumentException(
                "\""
                        + STEP
                        + "\" must be an Integer, Long, Short or Byte in 0 .. "
                        + Integer.MAX_VALUE
                        + ", got "
                        + (value == null
                                ? "null"
                                : value + " (" + value.getClass().getSimpleName() + ")"));
    }

    /**
     * Returns the number of channels {@code C} the operator acts on.
     *
     * @return the number of channels
     */
    int getChannels();

    /**
     * Prepares one training forward, once before its first step (e.g. re-orthogonalises {@code Q});
     * the result is passed to every step's {@link #apply}. The default prepares nothing.
     *
     * @param parameterStore the parameter store
     * @param like gives the device and manager of the forward pass
     * @param async whether expensive preparation may run on a background thread, overlapping the
     *     first step
     * @return the plan of this forward, or {@code null} if there is nothing to plan
     */
    default Plan planTraining(ParameterStore parameterStore, NDArray like, boolean async) {
        return null;
    }

    /**
     * Applies the operator at step {@code t}.
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode
     * @param plan the plan of this training forward from {@link #planTraining}, or {@code null}
     * @return the output, same shape as {@code x}
     * @throws IllegalArgumentException if {@code x} does not have {@code C} channels or {@code t <
     *     0}
     */
    NDArray apply(ParameterStore parameterStore, NDArray x, int t, boolean training, Plan plan);

    /** What an operator decided for one training forward; see {@link #planTraining}. */
    interface Plan {}
}
