package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;

/**
 * The general exponentially decaying state operator of the feedback U-Net (SPEC §6): {@code Q} and
 * {@code Qinv} are independent, trainable and never re-orthogonalised.
 *
 * <p>For an input {@code x} of shape {@code (B, C, H, W)} at step {@code t}, with parameters {@code
 * Q} and {@code Qinv} {@code (C, C)} (trainable, Xavier-uniform initialised like {@code
 * torch.nn.init.xavier_uniform_}), {@code S} {@code (C)} (ones, not trained), {@code tau} and
 * {@code alpha} (scalars of shape {@code (1)}, not trained):
 *
 * <pre>
 *   d   = exp( t * ( -(1/tau) * |S|^alpha ) )          per channel
 *   out = Qinv · diag(d) · Q · x                       on the channel vector of every pixel
 * </pre>
 *
 * <p>Unlike {@link StateExpDecay}, {@code Qinv} is not {@code Qᵀ} and nothing keeps either matrix
 * orthogonal: at {@code t = 0} the operator is {@code Qinv·Q}, a learned channel mixing. Training
 * and inference compute the same formula; gradients are autograd's (the original's hand-written
 * backward is not copied, see docs/porting.md). Parameter names are the original's ({@code Q},
 * {@code Qinv}, {@code S}, {@code tau}, {@code alpha}).
 */
public class GeneralStateExpDecay extends AbstractBlock implements StateOperator {

    private static final byte VERSION = 1;

    private final int channels;
    private final Parameter q;
    private final Parameter qinv;
    private final Parameter s;
    private final Parameter tau;
    private final Parameter alpha;

    /**
     * Creates the operator for {@code channels} channels.
     *
     * @param channels the number of channels {@code C}, positive
     * @param tau the time constant, positive and finite (the feedback U-Net's default: 0.2)
     * @param alpha the exponent of {@code |S|}, finite (the original's: 1)
     * @throws IllegalArgumentException naming the argument, its value and what is valid
     */
    public GeneralStateExpDecay(int channels, float tau, float alpha) {
        super(VERSION);
        if (channels <= 0) {
            throw new IllegalArgumentException("channels must be positive, got " + channels);
        }
        if (!(tau > 0) || Float.isInfinite(tau)) {
            throw new IllegalArgumentException("tau must be positive and finite, got " + tau);
        }
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("alpha must be finite, got " + alpha);
        }
        this.channels = channels;
        q = addParameter(matrix("Q"));
        qinv = addParameter(matrix("Qinv"));
        s = addParameter(constant("S", new Shape(channels), Initializer.ONES));
        this.tau = addParameter(constant("tau", new Shape(1), new ConstantInitializer(tau)));
        this.alpha = addParameter(constant("alpha", new Shape(1), new ConstantInitializer(alpha)));
    }

    private Parameter matrix(String name) {
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(channels, channels))
                // torch.nn.init.xavier_uniform_: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
                .optInitializer(
                        new XavierInitializer(
                                XavierInitializer.RandomType.UNIFORM,
                                XavierInitializer.FactorType.AVG,
                                3f))
                .build();
    }

    private static Parameter constant(String name, Shape shape, Initializer init) {
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.OTHER)
                .optShape(shape)
                .optInitializer(init)
                .optRequiresGrad(false)
                .build();
    }

    /** {@inheritDoc} */
    @Override
    public int getChannels() {
        return channels;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return new NDList(
                apply(
                        parameterStore,
                        inputs.singletonOrThrow(),
                        StateOperator.step(params),
                        training,
                        null));
    }

    /**
     * Applies the operator at step {@code t}; the plan is ignored (there is nothing to prepare).
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode
     * @param plan ignored
     * @return {@code Qinv · diag(d) · Q · x} per pixel, same shape as {@code x}
     * @throws IllegalArgumentException if {@code x} does not have {@code C} channels or {@code t <
     *     0}
     */
    @Override
    public NDArray apply(
            ParameterStore parameterStore, NDArray x, int t, boolean training, Plan plan) {
        Shape shape = x.getShape();
        if (shape.dimension() != 4 || shape.get(1) != channels) {
            throw new IllegalArgumentException(
                    "GeneralStateExpDecay expects input of shape (B, "
                            + channels
                            + ", H, W), got "
                            + shape);
        }
        if (t < 0) {
            throw new IllegalArgumentException("step t must be >= 0, got " + t);
        }
        NDArray qArr = parameterStore.getValue(q, x.getDevice(), training);
        NDArray qinvArr = parameterStore.getValue(qinv, x.getDevice(), training);
        NDArray sArr = parameterStore.getValue(s, x.getDevice(), training);
        NDArray tauArr = parameterStore.getValue(tau, x.getDevice(), training);
        NDArray alphaArr = parameterStore.getValue(alpha, x.getDevice(), training);
        // results computed from parameters would otherwise land in the model's manager
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(qArr, qinvArr, sArr, tauArr, alphaArr);
            NDArray d = StateExpDecay.decay(sArr, tauArr, alphaArr, t);
            long b = shape.get(0);
            long pixels = shape.get(2) * shape.get(3);
            // every pixel of the batch as one column: two plain GEMMs, as in StateExpDecay
            NDArray columns =
                    x.reshape(b, channels, pixels).transpose(1, 0, 2).reshape(channels, -1);
            NDArray z = qArr.matMul(columns).mul(d.reshape(channels, 1));
            NDArray out =
                    qinvArr.matMul(z)
                            .reshape(channels, b, pixels)
                            .transpose(1, 0, 2)
                            .reshape(shape);
            out.attach(x.getManager());
            return out;
        }
    }
}
