package dfbmodels;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.io.DjlParameters;
import dfbmodels.nn.ConvolutionCheck;
import dfbmodels.nn.GroupNorm;
import dfbmodels.nn.Interpolation;
import dfbmodels.state.StateExpDecay;
import dfbmodels.state.StateOperator;
import dfbmodels.state.TimeFactor;
import java.io.DataInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The unrolled feedback loop of a Deep Feedback Model.
 *
 * <p>Four parts: a {@code frontend} run once, a {@code body} run at every step, a state {@code h}
 * of {@code C = classChannels + feedbackChannels} channels, and a {@code readout}. With {@code x0 =
 * frontend(x)} of shape {@code (B, C0, H0, W0)} and {@code h} of shape {@code (B, C, Hs, Ws)}:
 *
 * <pre>
 *   h = h_init                                          zeros, or Gaussian (optInitialStateStd)
 *   for t = 0 .. T-1:
 *     f = softmax_c( GN_in( bilinear(h[:, feedback channels], H0 x W0) ) )
 *     y = body( concat_c(x0, f) )                       (B, C, Hs, Ws)
 *     h = h + E_t( GN_err(y) ) * w(t, T)
 *   return readout( h[:, 0 .. classChannels) )
 * </pre>
 *
 * <p>{@code E_t} is the state operator ({@link StateExpDecay} by default, any {@link StateOperator}
 * with {@link Builder#optStateOperator}) and {@code w} the {@link TimeFactor} (1 by default). When
 * the state has the frontend's size (the U-Net: identity frontend, state at input resolution) the
 * bilinear resize is the identity and costs nothing.
 *
 * <p>Feedback channels are {@code [classChannels, C)}. {@code T == 0} returns the readout of the
 * initial state. Early stop: with {@code atol > 0}, after each step {@code t} in {@code 1 .. T-2}
 * the loop compares {@code sum|h|} with the previous step's; if they differ by at most {@code
 * atol}, it runs one final step ({@code t+1}) and stops. With {@code atol <= 0} nothing is read
 * back to the host during the loop.
 *
 * <p>{@code forward}'s {@code PairList} accepts {@link #ITERATIONS} (an integral {@link Number} in
 * {@code 0 .. Integer.MAX_VALUE}, overrides T for that call), {@link #RETURN_READOUTS} and {@link
 * #RETURN_STATES} ({@link Boolean}s). The output is {@code [readout, r_1, ..., r_n, h_1, ...,
 * h_n]}, where {@code r_i} (only with readouts) is the readout of the state after step {@code i},
 * named {@code "readout.i"}, {@code h_i} (only with states) the state after step {@code i}, named
 * {@code "state.i"}, and {@code n} the number of steps run; {@code r_n} is the same array as {@code
 * readout}. Without either, the output is {@code [readout]}. {@link #stepReadouts(NDList)} picks
 * the readouts out.
 *
 * <p>Every array is created on the input's device in the input's data type.
 */
public class FeedbackBlock extends AbstractBlock {

    /**
     * The key of the per-call number of iterations T in {@code forward}'s params: any integral
     * {@link Number} ({@code Integer}, {@code Long}, {@code Short}, {@code Byte}, {@code
     * BigInteger}, {@code AtomicInteger}, {@code AtomicLong}) from 0 to {@link Integer#MAX_VALUE};
     * anything else ({@code "3"}, {@code 3.0}, {@code -1}) makes {@code forward} throw an {@link
     * IllegalArgumentException} naming the type and value received.
     */
    public static final String ITERATIONS = "iterations";

    /** The key asking {@code forward} to also return the state after every step. */
    public static final String RETURN_STATES = "returnStates";

    /**
     * The key asking {@code forward} to also return the readout of every step (for deep
     * supervision, see {@link DeepSupervisionLoss}).
     */
    public static final String RETURN_READOUTS = "returnReadouts";

    private static final String READOUT_PREFIX = "readout.";
    private static final String STATE_PREFIX = "state.";

    private static final byte VERSION = 1;

    private static final boolean ASYNC_QR =
            Boolean.parseBoolean(System.getProperty("dfbmodels.asyncQr", "true"));

    private final Block frontend;
    private final Block body;
    private final StateOperator errorHead;
    private final TimeFactor timeFactor;
    private final boolean stepReadouts;
    private final GroupNorm layernormError;
    private final GroupNorm layernormInput;
    private final Block readout;
    private final int classChannels;
    private final int feedbackChannels;
    private final int iterations;
    private final float atol;
    private final float initialStateStd;
    private final int inChannels;
    private final int sizeMultiple;
    private final boolean checkFinite;
    private final boolean feedback;

    FeedbackBlock(Builder builder) {
        super(VERSION);
        checkFinite = builder.checkFinite;
        feedback = builder.feedback;
        inChannels = builder.inChannels;
        sizeMultiple = builder.sizeMultiple;
        classChannels = builder.classChannels;
        feedbackChannels = builder.feedbackChannels;
        iterations = builder.iterations;
        atol = builder.atol;
        initialStateStd = builder.initialStateStd;
        timeFactor = builder.timeFactor;
        stepReadouts = builder.stepReadouts;
        frontend = addChildBlock("frontend", builder.frontend);
        body = addChildBlock("body", builder.body);
        errorHead =
                addChildBlock(
                        "error_head",
                        builder.stateOperator != null
                                ? builder.stateOperator
                                : new StateExpDecay(
                                        getStateChannels(),
                                        builder.tau,
                                        builder.alpha,
                                        builder.uniformShortcut));
        layernormError =
                addChildBlock(
                        "layernorm_error",
                        GroupNorm.builder()
                                .setNumGroups(builder.errorGroups)
                                .optTrainable(false)
                                .build());
        layernormInput =
                addChildBlock(
                        "layernorm_input",
                        GroupNorm.builder()
                                .setNumGroups(builder.feedbackGroups)
                                .optTrainable(false)
                                .build());
        readout = addChildBlock("readout", builder.readout);
    }

    /**
     * Returns a new builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the frontend, run once on the input.
     *
     * @return the frontend
     */
    public Block getFrontend() {
        return frontend;
    }

    /**
     * Returns the body, run at every step on {@code concat(x0, feedback)}.
     *
     * @return the body
     */
    public Block getBody() {
        return body;
    }

    /**
     * Returns the readout, applied to the class channels of the final state.
     *
     * @return the readout
     */
    public Block getReadout() {
        return readout;
    }

    /**
     * Returns the state operator.
     *
     * @return the state operator ({@code error_head} in the original)
     */
    public StateOperator getStateOp() {
        return errorHead;
    }

    /**
     * Returns the weight of every step's state update.
     *
     * @return the time factor ({@link TimeFactor#NONE} unless set)
     */
    public TimeFactor getTimeFactor() {
        return timeFactor;
    }

    /**
     * Returns the readouts of every step from an output of this block: the arrays named {@code
     * "readout.1"}, {@code "readout.2"}, ... in step order.
     *
     * @param output an output of {@code forward} asked for readouts ({@link #RETURN_READOUTS} or
     *     {@link Builder#optStepReadouts})
     * @return the per-step readouts; empty if the output holds none
     */
    public static NDList stepReadouts(NDList output) {
        NDList readouts = new NDList();
        for (int i = 1; i < output.size(); i++) {
            String name = output.get(i).getName();
            if (name != null && name.startsWith(READOUT_PREFIX)) {
                readouts.add(output.get(i));
            }
        }
        return readouts;
    }

    /**
     * Returns the number of state channels {@code C = classChannels + feedbackChannels}.
     *
     * @return the number of state channels
     */
    public int getStateChannels() {
        return classChannels + feedbackChannels;
    }

    /**
     * Returns the number of class channels.
     *
     * @return the number of class channels
     */
    public int getClassChannels() {
        return classChannels;
    }

    /**
     * Returns the number of feedback channels.
     *
     * @return the number of feedback channels
     */
    public int getFeedbackChannels() {
        return feedbackChannels;
    }

    /**
     * Returns the default number of iterations T.
     *
     * @return T
     */
    public int getIterations() {
        return iterations;
    }

    /**
     * Returns whether every forward also returns the readout of every step ({@link
     * Builder#optStepReadouts}), as {@link #RETURN_READOUTS} asks for per call.
     *
     * @return whether per-step readouts are returned by default
     */
    public boolean isStepReadouts() {
        return stepReadouts;
    }

    /**
     * Returns whether the loop is on; {@code false} for a feedforward twin, which runs exactly one
     * step whatever T is asked for.
     *
     * @return whether the feedback loop runs
     */
    public boolean isFeedback() {
        return feedback;
    }

    /**
     * Returns the standard deviation of the Gaussian initial state.
     *
     * @return the std, {@code 0} for the zero initial state (the default)
     */
    public float getInitialStateStd() {
        return initialStateStd;
    }

    /**
     * Returns the early-stop tolerance.
     *
     * @return atol ({@code <= 0}: off)
     */
    public float getAtol() {
        return atol;
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(
            NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape input = inputShapes[0];
        checkInput(input);
        frontend.initialize(manager, dataType, input);
        Shape x0 = frontend.getOutputShapes(new Shape[] {input})[0];
        Shape feedback = new Shape(x0.get(0), feedbackChannels, x0.get(2), x0.get(3));
        layernormInput.initialize(manager, dataType, feedback);
        Shape bodyInput = new Shape(x0.get(0), x0.get(1) + feedbackChannels, x0.get(2), x0.get(3));
        body.initialize(manager, dataType, bodyInput);
        Shape state = stateShape(bodyInput);
        errorHead.initialize(manager, dataType, state);
        layernormError.initialize(manager, dataType, state);
        readout.initialize(manager, dataType, classShape(state));
    }

    /**
     * Loads parameters saved by {@code Model.save}, after checking the whole file against this
     * model: parameters of another configuration (other {@code fbFilters}, classes, channels) or
     * another architecture fail here, naming what differs, and nothing is loaded; an uninitialised
     * model is initialised on the input shape the file records. See {@link DjlParameters}.
     *
     * @param manager the manager of the loaded arrays (the model's)
     * @param is the stream, at this block's first byte
     * @throws IOException if the stream cannot be read
     * @throws MalformedModelException if the file does not hold this model's parameters
     */
    @Override
    public void loadParameters(NDManager manager, DataInputStream is)
            throws IOException, MalformedModelException {
        DjlParameters.load(this, manager, is, super::loadParameters);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        checkInput(inputShapes[0]);
        Shape x0 = frontend.getOutputShapes(new Shape[] {inputShapes[0]})[0];
        Shape bodyInput = new Shape(x0.get(0), x0.get(1) + feedbackChannels, x0.get(2), x0.get(3));
        return readout.getOutputShapes(new Shape[] {classShape(stateShape(bodyInput))});
    }

    /**
     * Checks an input shape against the model's input channels and size multiple.
     *
     * @param input the input shape
     * @throws IllegalArgumentException naming the shape and what would be valid
     */
    public void checkInput(Shape input) {
        String expected = "(B, " + (inChannels > 0 ? String.valueOf(inChannels) : "C") + ", H, W)";
        if (input.dimension() != 4) {
            throw new IllegalArgumentException(
                    "input must have shape " + expected + ", got " + input);
        }
        if (inChannels > 0 && input.get(1) != inChannels) {
            throw new IllegalArgumentException(
                    "input must have "
                            + inChannels
                            + " channels, shape "
                            + expected
                            + ", got "
                            + input);
        }
        if (input.get(0) < 1 || input.get(2) < 1 || input.get(3) < 1) {
            throw new IllegalArgumentException("input must not be empty, got " + input);
        }
        if (input.get(2) % sizeMultiple != 0 || input.get(3) % sizeMultiple != 0) {
            throw new IllegalArgumentException(
                    "input height and width must be multiples of "
                            + sizeMultiple
                            + ", got "
                            + input.get(2)
                            + "x"
                            + input.get(3)
                            + " (input shape "
                            + input
                            + "); nearest valid sizes: "
                            + nearestValidSizes(input.get(2), input.get(3)));
        }
    }

    /** "64x32 (rounded down) or 96x64 (rounded up)", or only the latter below one multiple. */
    private String nearestValidSizes(long height, long width) {
        long m = sizeMultiple;
        long downH = height / m * m;
        long downW = width / m * m;
        String up = ((height + m - 1) / m * m) + "x" + ((width + m - 1) / m * m) + " (rounded up)";
        return downH > 0 && downW > 0 ? downH + "x" + downW + " (rounded down) or " + up : up;
    }

    private Shape stateShape(Shape bodyInput) {
        Shape y = body.getOutputShapes(new Shape[] {bodyInput})[0];
        if (y.dimension() != 4 || y.get(1) != getStateChannels()) {
            throw new IllegalStateException(
                    "the body must output (B, classChannels + feedbackChannels = "
                            + getStateChannels()
                            + ", Hs, Ws), but for input "
                            + bodyInput
                            + " it outputs "
                            + y);
        }
        return y;
    }

    private Shape classShape(Shape state) {
        return new Shape(state.get(0), classChannels, state.get(2), state.get(3));
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        checkInput(x.getShape());
        ConvolutionCheck.ensureCorrect(x);
        if (checkFinite
                && x.getDataType().isFloating()
                && (x.isNaN().any().getBoolean() || x.isInfinite().any().getBoolean())) {
            throw new IllegalArgumentException(
                    "input of shape " + x.getShape() + " contains NaN or infinite values");
        }
        int steps = iterations;
        boolean returnStates = false;
        boolean returnReadouts = stepReadouts;
        if (params != null) {
            if (params.contains(ITERATIONS)) {
                steps = checkIterations(params.get(ITERATIONS));
            }
            if (params.contains(RETURN_STATES)) {
                returnStates = Boolean.TRUE.equals(params.get(RETURN_STATES));
            }
            if (params.contains(RETURN_READOUTS)) {
                returnReadouts = Boolean.TRUE.equals(params.get(RETURN_READOUTS));
            }
        }
        if (!feedback) {
            steps = 1;
        }
        NDManager manager = x.getManager();
        // Q's QR, when needed (training, t = 0), runs on the host while the frontend and first
        // body pass run
        StateOperator.Plan plan =
                training && steps > 0 ? errorHead.planTraining(ps, x, ASYNC_QR) : null;
        NDArray x0 = frontend.forward(ps, new NDList(x), training).head();
        Shape x0Shape = x0.getShape();
        NDList states = new NDList();
        NDList readouts = new NDList();
        NDArray h = null;
        if (initialStateStd > 0 || steps == 0) {
            h = initialState(x, x0Shape);
        }
        double previous = Double.NaN;
        int last = steps - 1;
        for (int t = 0; t <= last; t++) {
            NDArray next;
            boolean converged = false;
            // intermediates of a step live in their own manager and are freed after it, so
            // inference memory does not grow with T (autograd keeps what backward needs)
            try (NDManager step = manager.newSubManager()) {
                step.tempAttachAll(x0);
                if (h != null) {
                    step.tempAttachAll(h);
                }
                next = step(ps, x0, h, t, steps, training, plan);
                if (atol > 0 && t < last) {
                    double sum = next.abs().sum().toType(DataType.FLOAT64, false).getDouble();
                    converged = t > 0 && Math.abs(sum - previous) <= atol;
                    previous = sum;
                }
                next.attach(manager);
            }
            if (converged) {
                last = t + 1;
            }
            if (h != null && !returnStates) {
                h.close();
            }
            h = next;
            if (returnStates) {
                h.setName(STATE_PREFIX + (t + 1));
                states.add(h);
            }
            if (returnReadouts) {
                NDArray r = readout(ps, h, training);
                r.setName(READOUT_PREFIX + (t + 1));
                readouts.add(r);
            }
        }
        NDList result =
                readouts.isEmpty()
                        ? readout.forward(ps, new NDList(classes(h)), training)
                        : new NDList(readouts.get(readouts.size() - 1));
        result.addAll(readouts);
        result.addAll(states);
        return result;
    }

    private NDArray readout(ParameterStore ps, NDArray h, boolean training) {
        return readout.forward(ps, new NDList(classes(h)), training).head();
    }

    private NDArray classes(NDArray h) {
        return h.get(new NDIndex(":, :{}", classChannels));
    }

    private NDArray step(
            ParameterStore ps,
            NDArray x0,
            NDArray h,
            int t,
            int steps,
            boolean training,
            StateOperator.Plan plan) {
        Shape x0Shape = x0.getShape();
        NDArray fb;
        if (h == null) {
            fb =
                    x0.getManager()
                            .zeros(
                                    new Shape(
                                            x0Shape.get(0),
                                            feedbackChannels,
                                            x0Shape.get(2),
                                            x0Shape.get(3)),
                                    x0.getDataType(),
                                    x0.getDevice());
        } else {
            fb = resizeFeedback(h, x0Shape.get(2), x0Shape.get(3));
        }
        NDArray f = layernormInput.forward(ps, new NDList(fb), training).head().softmax(1);
        NDArray y =
                body.forward(ps, new NDList(NDArrays.concat(new NDList(x0, f), 1)), training)
                        .head();
        NDArray e = layernormError.forward(ps, new NDList(y), training).head();
        NDArray update = errorHead.apply(ps, e, t, training, plan);
        double w = timeFactor.at(t, steps);
        if (w != 1) {
            // not mul(double): autograd keeps the factor, see Scalars
            update = update.mul(Scalars.of(update, w));
        }
        return h == null ? update : h.add(update);
    }

    private NDArray resizeFeedback(NDArray h, long height, long width) {
        return Interpolation.bilinear(
                h.get(new NDIndex(":, {}:", classChannels)), height, width, false);
    }

    /**
     * Returns the feedback {@code f} that the body sees after state {@code h}: {@code softmax_c(
     * GN_in( bilinear(h[:, feedback channels], height x width) ) )}, computed as the loop computes
     * it. For the states {@code h_1 .. h_n} that {@link #RETURN_STATES} returns, this gives the
     * feedback of steps {@code 1 .. n} ({@code f_0}, of the default zero initial state, is the
     * uniform {@code 1/feedbackChannels}). The loop itself does not call this method, so observing
     * the feedback costs nothing unless asked for.
     *
     * @param ps the parameter store
     * @param state a state {@code (B, classChannels + feedbackChannels, Hs, Ws)}
     * @param height the frontend output's height {@code H0}, e.g. {@code
     *     getFrontend().getOutputShapes(new Shape[] {x.getShape()})[0].get(2)}
     * @param width the frontend output's width {@code W0}
     * @return the feedback {@code (B, feedbackChannels, H0, W0)}, summing to 1 over channels, in
     *     the state's manager
     * @throws IllegalArgumentException if the state does not have {@code getStateChannels()}
     *     channels, or the size is not positive
     */
    public NDArray feedback(ParameterStore ps, NDArray state, long height, long width) {
        Shape s = state.getShape();
        if (s.dimension() != 4 || s.get(1) != getStateChannels()) {
            throw new IllegalArgumentException(
                    "state must have shape (B, " + getStateChannels() + ", Hs, Ws), got " + s);
        }
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException(
                    "height and width must be positive, got " + height + "x" + width);
        }
        NDManager manager = state.getManager();
        try (NDManager scope = manager.newSubManager()) {
            scope.tempAttachAll(state);
            NDArray fb = resizeFeedback(state, height, width);
            NDArray f = layernormInput.forward(ps, new NDList(fb), false).head().softmax(1);
            f.attach(manager);
            return f;
        }
    }

    private NDArray initialState(NDArray x, Shape x0Shape) {
        Shape bodyInput =
                new Shape(
                        x0Shape.get(0),
                        x0Shape.get(1) + feedbackChannels,
                        x0Shape.get(2),
                        x0Shape.get(3));
        Shape state = stateShape(bodyInput);
        NDManager manager = x.getManager();
        if (initialStateStd > 0) {
            return manager.randomNormal(0f, initialStateStd, state, x.getDataType(), x.getDevice());
        }
        return manager.zeros(state, x.getDataType(), x.getDevice());
    }

    /**
     * The per-call T: an integral {@link Number} in range. A {@code Double} is refused even when
     * whole ({@code 3.0}): a fractional type for a count is likely a mistake upstream.
     */
    private static int checkIterations(Object value) {
        boolean integral =
                value instanceof Integer
                        || value instanceof Long
                        || value instanceof Short
                        || value instanceof Byte
                        || value instanceof AtomicInteger
                        || value instanceof AtomicLong
                        || value instanceof BigInteger;
        if (integral) {
            BigInteger v =
                    value instanceof BigInteger
                            ? (BigInteger) value
                            : BigInteger.valueOf(((Number) value).longValue());
            if (v.signum() >= 0 && v.bitLength() < Integer.SIZE) {
                return v.intValue();
            }
        }
        throw new IllegalArgumentException(
                "\""
                        + ITERATIONS
                        + "\" must be an integral Number (Integer, Long, Short, Byte, BigInteger,"
                        + " AtomicInteger or AtomicLong) in 0 .. "
                        + Integer.MAX_VALUE
                        + ", got "
                        + (value == null
                                ? "null"
                                : (value instanceof CharSequence
                                                ? "\"" + value + "\""
                                                : String.valueOf(value))
                                        + " ("
                                        + value.getClass().getSimpleName()
                                        + ")"));
    }

    /** Builds a {@link FeedbackBlock}. */
    public static final class Builder {

        private Block frontend;
        private Block body;
        private Block readout;
        private int classChannels = -1;
        private int feedbackChannels = -1;
        private int errorGroups = 8;
        private int feedbackGroups = 8;
        private int iterations = 1;
        private float atol = 1e-2f;
        private float tau = 1f;
        private float alpha = 1f;
        private boolean uniformShortcut = true;
        private float initialStateStd;
        private int inChannels = -1;
        private int sizeMultiple = 1;
        private boolean checkFinite;
        private boolean feedback = true;
        private StateOperator stateOperator;
        private TimeFactor timeFactor = TimeFactor.NONE;
        private boolean stepReadouts;

        Builder() {}

        /**
         * Sets the state operator {@code E_t} (default {@code StateExpDecay}; a {@link
         * StateExpDecay} built from {@code tau}, {@code alpha} and the uniform shortcut setting,
         * which are then not used). It becomes the child {@code error_head}.
         *
         * @param stateOperator an operator over {@code classChannels + feedbackChannels} channels
         * @return this builder
         */
        public Builder optStateOperator(StateOperator stateOperator) {
            this.stateOperator = stateOperator;
            return this;
        }

        /**
         * Sets the weight {@code w(t, T)} of every step's state update (default {@link
         * TimeFactor#NONE}: the weight 1).
         *
         * @param timeFactor the time factor
         * @return this builder
         */
        public Builder optTimeFactor(TimeFactor timeFactor) {
            this.timeFactor = timeFactor;
            return this;
        }

        /**
         * Makes every forward also return the readout of every step, as if {@link
         * FeedbackBlock#RETURN_READOUTS} were passed (default false; the key still overrides it).
         * Needed to train with a {@link DeepSupervisionLoss} through DJL's {@code Trainer}, which
         * passes no params to {@code forward}.
         *
         * @param stepReadouts true to return the per-step readouts
         * @return this builder
         */
        public Builder optStepReadouts(boolean stepReadouts) {
            this.stepReadouts = stepReadouts;
            return this;
        }

        /**
         * Turns the loop off (default on): with {@code false} the block is the feedforward twin of
         * the feedback model, with the same parameters (names and shapes), run for exactly one step
         * from the zero state whatever T is set or asked for. Its feedback input is then the
         * uniform softmax {@code 1/feedbackChannels} and the output is {@code readout((E_0(GN_err(
         * body([x0; 1/fb]))) * w(0, 1))[:, class channels])}, exactly step 0 of the loop. With
         * {@link StateExpDecay} and an orthogonal {@code Q}, {@code E_0} is the identity and {@code
         * w = 1}: the backbone with a GroupNorm before the readout. With the U-Net's {@link
         * dfbmodels.state.GeneralStateExpDecay}, {@code E_0 = Qinv·Q}, and its time factor at
         * {@code t = 0} is {@code 1/Gamma(alpha)} for every T, so the twin's prediction equals the
         * feedback model's prediction after its first step.
         *
         * @param feedback false for the feedforward twin
         * @return this builder
         */
        public Builder optFeedback(boolean feedback) {
            this.feedback = feedback;
            return this;
        }

        /**
         * Checks every input for NaN and infinite values (default false: the check reads the input
         * back to the host, once per forward).
         *
         * @param checkFinite true to reject inputs with NaN or infinite values
         * @return this builder
         */
        public Builder optCheckFinite(boolean checkFinite) {
            this.checkFinite = checkFinite;
            return this;
        }

        /**
         * Sets the number of input channels, checked on every input (default: not checked).
         *
         * @param inChannels a positive number
         * @return this builder
         */
        public Builder optInChannels(int inChannels) {
            this.inChannels = inChannels;
            return this;
        }

        /**
         * Requires input heights and widths to be multiples of {@code multiple} (default 1).
         *
         * @param multiple a positive number
         * @return this builder
         */
        public Builder optSizeMultiple(int multiple) {
            this.sizeMultiple = multiple;
            return this;
        }

        /**
         * Sets the frontend, run once: {@code (B, Cin, H, W) -> (B, C0, H0, W0)} (required).
         *
         * @param frontend the frontend block
         * @return this builder
         */
        public Builder setFrontend(Block frontend) {
            this.frontend = frontend;
            return this;
        }

        /**
         * Sets the body, run at every step: {@code (B, C0 + feedbackChannels, H0, W0) -> (B,
         * classChannels + feedbackChannels, Hs, Ws)} (required).
         *
         * @param body the body block
         * @return this builder
         */
        public Builder setBody(Block body) {
            this.body = body;
            return this;
        }

        /**
         * Sets the readout, applied to the class channels of the final state: {@code (B,
         * classChannels, Hs, Ws) -> output} (required).
         *
         * @param readout the readout block
         * @return this builder
         */
        public Builder setReadout(Block readout) {
            this.readout = readout;
            return this;
        }

        /**
         * Sets the number of state channels read out (required).
         *
         * @param classChannels a positive number
         * @return this builder
         */
        public Builder setClassChannels(int classChannels) {
            this.classChannels = classChannels;
            return this;
        }

        /**
         * Sets the number of state channels fed back to the body (required).
         *
         * @param feedbackChannels a positive number
         * @return this builder
         */
        public Builder setFeedbackChannels(int feedbackChannels) {
            this.feedbackChannels = feedbackChannels;
            return this;
        }

        /**
         * Sets the number of groups of the GroupNorm on the body's output (default 8).
         *
         * @param groups a divisor of {@code classChannels + feedbackChannels}
         * @return this builder
         */
        public Builder optErrorGroups(int groups) {
            this.errorGroups = groups;
            return this;
        }

        /**
         * Sets the number of groups of the GroupNorm on the feedback (default 8).
         *
         * @param groups a divisor of {@code feedbackChannels}
         * @return this builder
         */
        public Builder optFeedbackGroups(int groups) {
            this.feedbackGroups = groups;
            return this;
        }

        /**
         * Sets the default number of iterations T (default 1).
         *
         * @param iterations {@code >= 0}
         * @return this builder
         */
        public Builder optIterations(int iterations) {
            this.iterations = iterations;
            return this;
        }

        /**
         * Sets the early-stop tolerance on {@code sum|h|} (default {@code 1e-2}; {@code <= 0} turns
         * early stopping off).
         *
         * @param atol the tolerance
         * @return this builder
         */
        public Builder optAtol(float atol) {
            this.atol = atol;
            return this;
        }

        /**
         * Sets the state operator's time constant (default 1).
         *
         * @param tau a positive number
         * @return this builder
         */
        public Builder optTau(float tau) {
            this.tau = tau;
            return this;
        }

        /**
         * Sets the state operator's exponent of {@code |S|} (default 1).
         *
         * @param alpha the exponent
         * @return this builder
         */
        public Builder optAlpha(float alpha) {
            this.alpha = alpha;
            return this;
        }

        /**
         * Sets whether training skips {@code Q} while {@code |S|} is uniform (default {@code
         * true}): outputs and gradients are unchanged, {@code Q} is neither trained nor
         * re-orthogonalised at every step. {@code false} follows the original's updates of {@code
         * Q} exactly, at the cost of a QR per training step. See {@link StateExpDecay}.
         *
         * @param uniformShortcut whether to use the uniform shortcut
         * @return this builder
         */
        public Builder optUniformShortcut(boolean uniformShortcut) {
            this.uniformShortcut = uniformShortcut;
            return this;
        }

        /**
         * Draws the initial state from {@code N(0, std^2)} instead of zeros (default 0: zeros).
         *
         * @param std the standard deviation, {@code >= 0}
         * @return this builder
         */
        public Builder optInitialStateStd(float std) {
            this.initialStateStd = std;
            return this;
        }

        /**
         * Builds the block.
         *
         * @return a new {@link FeedbackBlock}
         */
        public FeedbackBlock build() {
            if (frontend == null || body == null || readout == null) {
                throw new IllegalArgumentException(
                        "frontend, body and readout must all be set (setFrontend, setBody,"
                                + " setReadout)");
            }
            if (classChannels <= 0) {
                throw new IllegalArgumentException(
                        "classChannels must be positive, got " + classChannels);
            }
            if (feedbackChannels <= 0) {
                throw new IllegalArgumentException(
                        "feedbackChannels must be positive, got " + feedbackChannels);
            }
            if (iterations < 0) {
                throw new IllegalArgumentException(
                        "iterations (T) must be >= 0, got " + iterations);
            }
            if (sizeMultiple < 1) {
                throw new IllegalArgumentException(
                        "sizeMultiple must be positive, got " + sizeMultiple);
            }
            if (!(initialStateStd >= 0) || Float.isInfinite(initialStateStd)) {
                throw new IllegalArgumentException(
                        "initialStateStd must be >= 0 and finite, got " + initialStateStd);
            }
            if (timeFactor == null) {
                throw new IllegalArgumentException("timeFactor must not be null");
            }
            if (stateOperator != null
                    && stateOperator.getChannels() != classChannels + feedbackChannels) {
                throw new IllegalArgumentException(
                        "the state operator acts on "
                                + stateOperator.getChannels()
                                + " channels, but the state has classChannels + feedbackChannels = "
                                + (classChannels + feedbackChannels));
            }
            GroupNorm.checkDivisible(
                    "the state (classChannels + feedbackChannels)",
                    classChannels + feedbackChannels,
                    errorGroups);
            GroupNorm.checkDivisible(
                    "the feedback (feedbackChannels)", feedbackChannels, feedbackGroups);
            return new FeedbackBlock(this);
        }
    }
}
