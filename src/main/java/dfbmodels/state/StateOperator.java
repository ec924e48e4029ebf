package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

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
