package dfbmodels.state;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The feedback state operator of Deep Feedback Models: an exponentially decaying orthogonal map.
 *
 * <p>For an input {@code x} of shape {@code (B, C, H, W)} at step {@code t}, with parameters {@code
 * Q} {@code (C, C)} (trainable, orthogonally initialised), {@code S} {@code (C)}, {@code tau} and
 * {@code alpha} (scalars of shape {@code (1)}, not trained):
 *
 * <pre>
 *   d   = exp( t * ( -(1/tau) * |S|^alpha ) )          per channel
 *   out = Q^T · diag(d) · Q · x                        on the channel vector of every pixel
 * </pre>
 *
 * <p>In training mode, at {@code t == 0}, {@code Q} is first replaced in place (without gradient)
 * by the orthogonal factor of its QR decomposition, as the original does after every optimiser
 * step. The step is passed through {@code forward}'s {@code PairList} under {@link #STEP}, or with
 * {@link #apply(ParameterStore, NDArray, int, boolean)}.
 */
public class StateExpDecay extends AbstractBlock {

    /** The key of the step index {@code t} (an {@link Integer}) in {@code forward}'s params. */
    public static final String STEP = "step";

    private static final byte VERSION = 1;

    // LAPACK runs here, beside LibTorch's threads, while the first step's forward pass proceeds
    private static final ExecutorService QR_THREAD =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread thread = new Thread(r, "dfbmodels-qr");
                        thread.setDaemon(true);
                        return thread;
                    });

    private final int channels;
    private final Parameter q;
    private final Parameter s;
    private final Parameter tau;
    private final Parameter alpha;

    /**
     * Creates the operator for {@code channels} channels.
     *
     * @param channels the number of channels {@code C}
     * @param tau the time constant, positive (default of the original: 1)
     * @param alpha the exponent of {@code |S|} (default of the original: 1)
     */
    public StateExpDecay(int channels, float tau, float alpha) {
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
        q =
                addParameter(
                        Parameter.builder()
                                .setName("Q")
                                .setType(Parameter.Type.WEIGHT)
                                .optShape(new Shape(channels, channels))
                                .optInitializer(new OrthogonalInitializer())
                                .build());
        s = addParameter(constant("S", new Shape(channels), Initializer.ONES));
        this.tau = addParameter(constant("tau", new Shape(1), new ConstantInitializer(tau)));
        this.alpha = addParameter(constant("alpha", new Shape(1), new ConstantInitializer(alpha)));
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

    /**
     * Returns the number of channels {@code C}.
     *
     * @return the number of channels
     */
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
        int step = 0;
        if (params != null && params.contains(STEP)) {
            step = ((Number) params.get(STEP)).intValue();
        }
        return new NDList(apply(parameterStore, inputs.singletonOrThrow(), step, training));
    }

    /**
     * Applies the operator at step {@code t}.
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode (re-orthogonalises {@code Q} when {@code t == 0})
     * @return the output, same shape as {@code x}
     */
    public NDArray apply(ParameterStore parameterStore, NDArray x, int t, boolean training) {
        return apply(parameterStore, x, t, training, null);
    }

    /**
     * Starts computing the orthogonal factor of {@code Q}'s QR decomposition on a background
     * thread, so that it overlaps with the network's first step; pass the result to {@link
     * #apply(ParameterStore, NDArray, int, boolean, Future)} at {@code t == 0}. Only {@code Q}'s
     * copy to the host happens on the calling thread.
     *
     * @param parameterStore the parameter store
     * @param device the device of the forward pass
     * @return the pending factor
     */
    public Future<Object> reorthogonalizeAsync(ParameterStore parameterStore, Device device) {
        NDArray qArr = parameterStore.getValue(q, device, true);
        Object host = QrDecomposition.toHost(qArr);
        return QR_THREAD.submit(
                () -> QrDecomposition.orthogonalFactorOnHost(host, channels, channels));
    }

    /**
     * Applies the operator at step {@code t}, taking {@code Q}'s re-orthogonalised value from
     * {@code pendingQ} (see {@link #reorthogonalizeAsync}) when {@code training && t == 0}.
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode
     * @param pendingQ the pending factor, or {@code null} to compute it now
     * @return the output, same shape as {@code x}
     */
    public NDArray apply(
            ParameterStore parameterStore,
            NDArray x,
            int t,
            boolean training,
            Future<Object> pendingQ) {
        Shape shape = x.getShape();
        if (shape.dimension() != 4 || shape.get(1) != channels) {
            throw new IllegalArgumentException(
                    "StateExpDecay expects input of shape (B, "
                            + channels
                            + ", H, W), got "
                            + shape);
        }
        if (t < 0) {
            throw new IllegalArgumentException("step t must be >= 0, got " + t);
        }
        NDArray qArr = parameterStore.getValue(q, x.getDevice(), training);
        if (training && t == 0) {
            Object host;
            try {
                host =
                        pendingQ != null
                                ? pendingQ.get()
                                : QrDecomposition.orthogonalFactorOnHost(
                                        QrDecomposition.toHost(qArr), channels, channels);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while re-orthogonalising Q", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("QR of Q failed", e.getCause());
            }
            try (NDArray orth = QrDecomposition.fromHost(qArr, host, qArr.getShape())) {
                qArr.set(orth.toByteBuffer());
            }
        }
        NDArray sArr = parameterStore.getValue(s, x.getDevice(), training);
        NDArray tauArr = parameterStore.getValue(tau, x.getDevice(), training);
        NDArray alphaArr = parameterStore.getValue(alpha, x.getDevice(), training);
        // ops take their receiver's manager: without this scope, results computed from the
        // parameters would pile up in the model's manager at every step
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(qArr, sArr, tauArr, alphaArr);
            NDArray d = decay(sArr, tauArr, alphaArr, t);
            long b = shape.get(0);
            long pixels = shape.get(2) * shape.get(3);
            // every pixel of the batch as one column: two plain GEMMs read Q once each, where a
            // batched (C, C) x (B, C, HW) product would expand Q (and its gradient) B times
            NDArray columns =
                    x.reshape(b, channels, pixels).transpose(1, 0, 2).reshape(channels, -1);
            NDArray z = qArr.matMul(columns).mul(d.reshape(channels, 1));
            NDArray out =
                    qArr.transpose()
                            .matMul(z)
                            .reshape(channels, b, pixels)
                            .transpose(1, 0, 2)
                            .reshape(shape);
            out.attach(x.getManager());
            return out;
        }
    }

    /**
     * Computes the per-channel decay {@code d = exp(t * (-(1/tau) * |S|^alpha))}.
     *
     * @param s {@code S}, shape {@code (C)}
     * @param tau {@code tau}, shape {@code (1)}
     * @param alpha {@code alpha}, shape {@code (1)}
     * @param t the step
     * @return {@code d}, shape {@code (C)}
     */
    static NDArray decay(NDArray s, NDArray tau, NDArray alpha, int t) {
        NDArray rate = s.abs().pow(alpha).mul(tau.pow(-1).neg());
        return rate.mul(t).exp();
    }
}
