package dfbmodels.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.Arrays;

/**
 * Group normalisation, equal to {@code torch.nn.GroupNorm}.
 *
 * <p>The {@code C} channels of an input of shape {@code (B, C, *)} are split into {@code G}
 * contiguous groups; every group of every sample is normalised with its own mean and biased
 * variance, then scaled and shifted per channel:
 *
 * <pre>
 *   y = (x - mean_g) / sqrt(var_g + eps) * weight_c + bias_c
 * </pre>
 *
 * <p>Parameters {@code weight} and {@code bias} have shape {@code (C)} and are initialised to ones
 * and zeros. With {@link Builder#optTrainable(boolean) optTrainable(false)} they are kept out of
 * training (the feedback models use frozen GroupNorms) but still loaded and saved. float16 and
 * bfloat16 inputs are normalised in float32 and cast back, as in PyTorch (see {@link #groupNorm}).
 */
public class GroupNorm extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int numGroups;
    private final double epsilon;
    private final Parameter weight;
    private final Parameter bias;
    private long channels = -1;

    GroupNorm(Builder builder) {
        super(VERSION);
        numGroups = builder.numGroups;
        epsilon = builder.epsilon;
        weight =
                addParameter(
                        Parameter.builder()
                                .setName("weight")
                                .setType(Parameter.Type.GAMMA)
                                .optInitializer(Initializer.ONES)
                                .optRequiresGrad(builder.trainable)
                                .build());
        bias =
                addParameter(
                        Parameter.builder()
                                .setName("bias")
                                .setType(Parameter.Type.BETA)
                                .optInitializer(Initializer.ZEROS)
                                .optRequiresGrad(builder.trainable)
                                .build());
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
     * Returns the number of groups.
     *
     * @return the number of groups
     */
    public int getNumGroups() {
        return numGroups;
    }

    /**
     * Checks that {@code channels} can be split into {@code groups} groups.
     *
     * @param what a name for the normalised tensor, used in the message
     * @param channels the number of channels
     * @param groups the number of groups
     * @throws IllegalArgumentException if {@code channels} is not a positive multiple of {@code
     *     groups}
     */
    public static void checkDivisible(String what, long channels, int groups) {
        if (groups <= 0 || channels <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException(
                    "GroupNorm over "
                            + what
                            + ": channels must be a positive multiple of groups, got channels="
                            + channels
                            + " and groups="
                            + groups);
        }
    }

    /** {@inheritDoc} */
    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        super.beforeInitialize(inputShapes);
        checkInput(inputShapes[0]);
        channels = inputShapes[0].get(1);
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Shape[] inputShapes) {
        weight.setShape(new Shape(channels));
        bias.setShape(new Shape(channels));
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
        NDArray x = inputs.singletonOrThrow();
        checkInput(x.getShape());
        NDArray w = parameterStore.getValue(weight, x.getDevice(), training);
        NDArray b = parameterStore.getValue(bias, x.getDevice(), training);
        return new NDList(normalise(x, numGroups, w, b, epsilon));
    }

    /**
     * Applies group normalisation, like {@code F.group_norm(x, groups, weight, bias, eps)}.
     *
     * <p>float16 and bfloat16 inputs are normalised in float32 (mean, variance, scale and shift),
     * as PyTorch does, and the result is cast back once: statistics of values far from zero
     * relative to their spread (e.g. 300 + U(0, 1)) would otherwise lose most of their digits.
     *
     * @param x the input of shape {@code (B, C, *)}, floating point
     * @param groups the number of groups {@code G}, a positive divisor of {@code C}
     * @param weight the per-channel scale of shape {@code (C)}, or null for none
     * @param bias the per-channel shift of shape {@code (C)}, or null for none
     * @param eps the value added to the variance, positive
     * @return the normalised input, same shape and data type as {@code x}, in {@code x}'s manager
     * @throws IllegalArgumentException if {@code x} has fewer than 2 axes, {@code groups} does not
     *     divide {@code C}, {@code weight} or {@code bias} is not of shape {@code (C)} or {@code
     *     eps} is not positive
     */
    public static NDArray groupNorm(
            NDArray x, int groups, NDArray weight, NDArray bias, double eps) {
        Shape shape = x.getShape();
        checkRank(shape);
        checkDivisible("its input", shape.get(1), groups);
        checkAffine("weight", weight, shape);
        checkAffine("bias", bias, shape);
        if (!(eps > 0)) {
            throw new IllegalArgumentException("GroupNorm eps must be positive, got " + eps);
        }
        return normalise(x, groups, weight, bias, eps);
    }

    private static NDArray normalise(
            NDArray x, int groups, NDArray weight, NDArray bias, double eps) {
        Shape shape = x.getShape();
        long[] affine = new long[shape.dimension()];
        Arrays.fill(affine, 1);
        affine[1] = shape.get(1);
        Shape affineShape = new Shape(affine);
        DataType type = x.getDataType();
        boolean half = type == DataType.FLOAT16 || type == DataType.BFLOAT16;
        DataType compute = half ? DataType.FLOAT32 : type;
        NDManager outer = x.getManager();
        // every intermediate (and a reshaped parameter, which would otherwise stay in the
        // parameter's, i.e. the model's, manager) lives in the scope; only the result leaves it
        try (NDManager scope = outer.newSubManager(x.getDevice())) {
            scope.tempAttachAll(x);
            if (weight != null) {
                scope.tempAttachAll(weight);
            }
            if (bias != null) {
                scope.tempAttachAll(bias);
            }
            NDArray g = x.toType(compute, false).reshape(shape.get(0), groups, -1);
            NDArray mean = g.mean(new int[] {2}, true);
            NDArray centered = g.sub(mean);
            NDArray var = centered.square().mean(new int[] {2}, true);
            NDArray out = centered.div(var.add(eps).sqrt()).reshape(shape);
            if (weight != null) {
                out = out.mul(weight.toType(compute, false).reshape(affineShape));
            }
            if (bias != null) {
                out = out.add(bias.toType(compute, false).reshape(affineShape));
            }
            out = out.toType(type, false);
            out.attach(outer);
            return out;
        }
    }

    private static void checkRank(Shape shape) {
        if (shape.dimension() < 2) {
            throw new IllegalArgumentException(
                    "GroupNorm input must have shape (B, C, ...), got " + shape);
        }
    }

    private static void checkAffine(String name, NDArray array, Shape input) {
        if (array != null
                && (array.getShape().dimension() != 1 || array.getShape().get(0) != input.get(1))) {
            throw new IllegalArgumentException(
                    "GroupNorm "
                            + name
                            + " must have shape (C) = ("
                            + input.get(1)
                            + ") for an input of shape "
                            + input
                            + ", got "
                            + array.getShape());
        }
    }

    private void checkInput(Shape shape) {
        checkRank(shape);
        checkDivisible("its input", shape.get(1), numGroups);
        if (channels > 0 && shape.get(1) != channels) {
            throw new IllegalArgumentException(
                    "GroupNorm was initialised for "
                            + channels
                            + " channels, got an input of shape "
                            + shape);
        }
    }

    /** Builds a {@link GroupNorm}. */
    public static final class Builder {

        private int numGroups = -1;
        private double epsilon = 1e-5;
        private boolean trainable = true;

        Builder() {}

        /**
         * Sets the number of groups (required).
         *
         * @param numGroups the number of groups, a positive divisor of the channel count
         * @return this builder
         */
        public Builder setNumGroups(int numGroups) {
            this.numGroups = numGroups;
            return this;
        }

        /**
         * Sets the value added to the variance (default {@code 1e-5}).
         *
         * @param epsilon a positive value
         * @return this builder
         */
        public Builder optEpsilon(double epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        /**
         * Sets whether {@code weight} and {@code bias} are trained (default true).
         *
         * @param trainable false to freeze the affine parameters
         * @return this builder
         */
        public Builder optTrainable(boolean trainable) {
            this.trainable = trainable;
            return this;
        }

        /**
         * Builds the block.
         *
         * @return a new {@link GroupNorm}
         */
        public GroupNorm build() {
            if (numGroups <= 0) {
                throw new IllegalArgumentException(
                        "numGroups must be set to a positive number, got " + numGroups);
            }
            if (!(epsilon > 0)) {
                throw new IllegalArgumentException("epsilon must be positive, got " + epsilon);
            }
            return new GroupNorm(this);
        }
    }
}
