package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
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
 *
 * <p><b>Uniform shortcut</b> (on by default, see {@link #isUniformShortcut()}): while {@code |S|}
 * is uniform, {@code d} is one number and {@code Qᵀ·diag(d)·Q = d·I} for the orthogonal {@code Q}
 * of every training forward, so {@code Q} influences nothing but its own updates. A training
 * forward then computes {@code d·x}: {@code Q} takes no part, gets a zero gradient (so Adam leaves
 * it unchanged), and is re-orthogonalised only when it is not orthogonal (checked on a probe
 * vector: {@code |QᵀQv − v| / |v|}), e.g. after loading weights saved between an optimiser step and
 * the next forward, or when weight decay has shrunk it. Outputs and every other gradient equal the
 * original's to rounding; only {@code Q}'s own trajectory differs (it stays put instead of
 * wandering among orthogonal matrices). With the shortcut off, or with non-uniform {@code S},
 * training follows the original exactly: QR at every training forward, both products, {@code Q}
 * trained. Inference always uses {@code Q} as stored.
 */
public class StateExpDecay extends AbstractBlock implements StateOperator {

    private static final byte VERSION = 1;

    // |QᵀQv − v| / |v| below which Q counts as orthogonal. Measured for n = 24 to 2,080: LAPACK's
    // factors and the initialiser's give 3e-7 to 9e-7 (float32) and 2e-15 (float64); a Q moved by
    // one Adam step of 1e-3 per element gives 8e-3 to 6e-2
    private static final double ORTHOGONAL_TOL_FLOAT32 = 1e-5;
    private static final double ORTHOGONAL_TOL_FLOAT64 = 1e-12;

    // LAPACK runs here, beside LibTorch's threads, while the first step's forward pass proceeds
    private static final ExecutorService QR_THREAD =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread thread = new Thread(r, "dfbmodels-qr");
                        thread.setDaemon(true);
                        return thread;
                    });

    private final int channels;
    private final boolean uniformShortcut;
    private final Parameter q;
    private final Parameter s;
    private final Parameter tau;
    private final Parameter alpha;

    /**
     * Creates the operator for {@code channels} channels, with the uniform shortcut.
     *
     * @param channels the number of channels {@code C}
     * @param tau the time constant, positive (default of the original: 1)
     * @param alpha the exponent of {@code |S|} (default of the original: 1)
     */
    public StateExpDecay(int channels, float tau, float alpha) {
        this(channels, tau, alpha, true);
    }

    /**
     * Creates the operator for {@code channels} channels.
     *
     * @param channels the number of channels {@code C}
     * @param tau the time constant, positive (default of the original: 1)
     * @param alpha the exponent of {@code |S|} (default of the original: 1)
     * @param uniformShortcut whether training skips {@code Q} while {@code |S|} is uniform (see the
     *     class description); {@code false} follows the original's {@code Q} updates exactly
     */
    public StateExpDecay(int channels, float tau, float alpha, boolean uniformShortcut) {
        super(VERSION);
        this.uniformShortcut = uniformShortcut;
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

    /** {@inheritDoc} */
    @Override
    public int getChannels() {
        return channels;
    }

    /**
     * Returns whether training skips {@code Q} while {@code |S|} is uniform.
     *
     * @return whether the uniform shortcut is on
     */
    public boolean isUniformShortcut() {
        return uniformShortcut;
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
                        training));
    }

    /**
     * Applies the operator at step {@code t}.
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode (re-orthogonalises {@code Q} when {@code t == 0},
     *     unless the uniform shortcut finds it orthogonal already)
     * @return the output, same shape as {@code x}
     */
    public NDArray apply(ParameterStore parameterStore, NDArray x, int t, boolean training) {
        return apply(parameterStore, x, t, training, null);
    }

    /**
     * Decides, once per training forward, whether {@code Q} needs its QR and whether the uniform
     * shortcut applies, and starts the QR if needed; pass the result to every step's {@link
     * #apply(ParameterStore, NDArray, int, boolean, TrainingPlan)}. With the shortcut on, reads two
     * numbers back to the host; when a QR is needed, {@code Q} itself.
     *
     * @param parameterStore the parameter store
     * @param like gives the device and manager of the forward pass
     * @param async whether the QR runs on a background thread, overlapping the first step
     * @return the plan of this forward
     */
    @Override
    public TrainingPlan planTraining(ParameterStore parameterStore, NDArray like, boolean async) {
        NDArray qArr = parameterStore.getValue(q, like.getDevice(), true);
        NDArray sArr = parameterStore.getValue(s, like.getDevice(), true);
        boolean uniform = false;
        boolean orthogonal = false;
        if (uniformShortcut) {
            double[] check = uniformityAndOrthogonality(qArr, sArr, like.getManager());
            uniform = check[0] == 0;
            orthogonal = check[1] <= orthogonalTolerance(qArr.getDataType());
        }
        if (uniform && orthogonal) {
            return new TrainingPlan(true, null);
        }
        Object host = QrDecomposition.toHost(qArr);
        Future<Object> pending =
                async
                        ? QR_THREAD.submit(
                                () ->
                                        QrDecomposition.orthogonalFactorOnHost(
                                                host, channels, channels))
                        : CompletableFuture.completedFuture(
                                QrDecomposition.orthogonalFactorOnHost(host, channels, channels));
        return new TrainingPlan(uniform, pending);
    }

    /**
     * Applies the operator at step {@code t} as {@code plan} (from {@link #planTraining}) says: at
     * {@code t == 0} it writes the pending QR factor into {@code Q}, and with the uniform shortcut
     * it computes {@code d·x}. In training without a plan, one is made for this call (with the QR
     * only at {@code t == 0}, as the original); the plan is ignored in inference.
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode
     * @param plan the plan of this training forward, or {@code null}
     * @return the output, same shape as {@code x}
     */
    public NDArray apply(
            ParameterStore parameterStore, NDArray x, int t, boolean training, TrainingPlan plan) {
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
        boolean shortcut = false;
        if (training) {
            if (plan == null) {
                plan =
                        t == 0
                                ? planTraining(parameterStore, x, false)
                                : planStep(parameterStore, qArr, x);
            }
            if (t == 0 && plan.pendingQ != null) {
                writeOrthogonalFactor(qArr, plan.pendingQ);
            }
            shortcut = plan.shortcut;
        }
        NDArray sArr = parameterStore.getValue(s, x.getDevice(), training);
        NDArray tauArr = parameterStore.getValue(tau, x.getDevice(), training);
        NDArray alphaArr = parameterStore.getValue(alpha, x.getDevice(), training);
        // ops take their receiver's manager: without this scope, results computed from the
        // parameters would pile up in the model's manager at every step
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(qArr, sArr, tauArr, alphaArr);
            NDArray d = decay(sArr, tauArr, alphaArr, t);
            NDArray out;
            if (shortcut) {
                out = x.mul(d.reshape(1, channels, 1, 1));
            } else {
                long b = shape.get(0);
                long pixels = shape.get(2) * shape.get(3);
                // every pixel of the batch as one column: two plain GEMMs read Q once each, where
                // a batched (C, C) x (B, C, HW) product would expand Q (and its gradient) B times
                NDArray columns =
                        x.reshape(b, channels, pixels).transpose(1, 0, 2).reshape(channels, -1);
                NDArray z = qArr.matMul(columns).mul(d.reshape(channels, 1));
                out =
                        qArr.transpose()
                                .matMul(z)
                                .reshape(channels, b, pixels)
                                .transpose(1, 0, 2)
                                .reshape(shape);
            }
            out.attach(x.getManager());
            return out;
        }
    }

    /**
     * Applies the operator at step {@code t} with a plan from {@link #planTraining}; see {@link
     * #apply(ParameterStore, NDArray, int, boolean, TrainingPlan)}.
     *
     * @param parameterStore the parameter store
     * @param x the input of shape {@code (B, C, H, W)}
     * @param t the step index, {@code >= 0}
     * @param training whether in training mode
     * @param plan a {@link TrainingPlan} of this operator, or {@code null}
     * @return the output, same shape as {@code x}
     * @throws IllegalArgumentException if {@code plan} was made by another operator type
     */
    @Override
    public NDArray apply(
            ParameterStore parameterStore, NDArray x, int t, boolean training, Plan plan) {
        if (plan != null && !(plan instanceof TrainingPlan)) {
            throw new IllegalArgumentException(
                    "StateExpDecay needs a plan from its own planTraining, got "
                            + plan.getClass().getName());
        }
        return apply(parameterStore, x, t, training, (TrainingPlan) plan);
    }

    /** A step after t = 0 of a forward that gave no plan: no QR, shortcut if Q already fits. */
    private TrainingPlan planStep(ParameterStore parameterStore, NDArray qArr, NDArray like) {
        if (!uniformShortcut) {
            return new TrainingPlan(false, null);
        }
        NDArray sArr = parameterStore.getValue(s, like.getDevice(), true);
        double[] check = uniformityAndOrthogonality(qArr, sArr, like.getManager());
        boolean fits = check[0] == 0 && check[1] <= orthogonalTolerance(qArr.getDataType());
        return new TrainingPlan(fits, null);
    }

    private static void writeOrthogonalFactor(NDArray qArr, Future<Object> pendingQ) {
        Object host;
        try {
            host = pendingQ.get();
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

    /**
     * Returns {@code max|S| − min|S|} and {@code |QᵀQv − v| / |v|} for a fixed probe vector {@code
     * v}, in one read-back.
     */
    private double[] uniformityAndOrthogonality(NDArray qArr, NDArray sArr, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            // stopGradient's copies are new arrays in the parameters' (the model's) manager: they
            // belong to this scope, not just visit it
            NDArray qd = qArr.stopGradient();
            qd.attach(scope);
            NDArray sd = sArr.stopGradient();
            sd.attach(scope);
            NDArray absS = sd.abs();
            NDArray v =
                    scope.create(probe(channels), new Shape(channels, 1))
                            .toDevice(qd.getDevice(), false)
                            .toType(qd.getDataType(), false);
            NDArray residual = qd.transpose().matMul(qd.matMul(v)).sub(v).norm().div(v.norm());
            NDArray spread = absS.max().sub(absS.min());
            NDArray both = NDArrays.stack(new NDList(spread, residual));
            if (both.getDataType() == DataType.FLOAT64) {
                return both.toDoubleArray();
            }
            // float32 on the device: some accelerators have no float64
            float[] values = both.toType(DataType.FLOAT32, false).toFloatArray();
            return new double[] {values[0], values[1]};
        }
    }

    // a fixed pseudo-random vector: deterministic, and it leaves the engine's random stream alone
    private static float[] probe(int n) {
        Random random = new Random(0x5eed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    // half precision never passes, so such a Q is re-orthogonalised at every training forward
    private static double orthogonalTolerance(DataType type) {
        return type == DataType.FLOAT64 ? ORTHOGONAL_TOL_FLOAT64 : ORTHOGONAL_TOL_FLOAT32;
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

    /**
     * What one training forward does with {@code Q}: whether the uniform shortcut applies and the
     * QR factor to write into {@code Q} at {@code t == 0}, if any. Made by {@link #planTraining}.
     */
    public static final class TrainingPlan implements Plan {

        private final boolean shortcut;
        private final Future<Object> pendingQ;

        TrainingPlan(boolean shortcut, Future<Object> pendingQ) {
            this.shortcut = shortcut;
            this.pendingQ = pendingQ;
        }

        /**
         * Returns whether this forward computes {@code d·x} without {@code Q}.
         *
         * @return whether the uniform shortcut applies
         */
        public boolean isShortcut() {
            return shortcut;
        }

        /**
         * Returns whether {@code Q} is re-orthogonalised in this forward.
         *
         * @return whether a QR was started
         */
        public boolean reorthogonalizes() {
            return pendingQ != null;
        }
    }
}
