package dfbmodels.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
 * training (the feedback models use frozen GroupNorms) but still loaded and saved.
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
        return new NDList(groupNorm(x, numGroups, w, b, epsilon));
    }

    /**
     * Applies group normalisation.
     *
     * @param x the input of shape {@code (B, C, *)}
     * @param groups the number of groups {@code G}, dividing {@code C}
     * @param weight the per-channel scale of shape {@code (C)}
     * @param bias the per-channel shift of shape {@code (C)}
     * @param eps the value added to the variance
     * @return the normalised input, same shape as {@code x}
     */
    public static NDArray groupNorm(
            NDArray x, int groups, NDArray weight, NDArray bias, double eps) {
        Shape shape = x.getShape();
        long b = shape.get(0);
        long c = shape.get(1);
        NDArray g = x.reshape(b, groups, -1);
        NDArray mean = g.mean(new int[] {2}, true);
        NDArray centered = g.sub(mean);
        NDArray var = centered.square().mean(new int[] {2}, true);
        NDArray normed = centered.div(var.add(eps).sqrt()).reshape(shape);
        long[] affine = new long[shape.dimension()];
        Arrays.fill(affine, 1);
        affine[1] = c;
        Shape affineShape = new Shape(affine);
        // reshaping a parameter would leave the view in the parameter's (the model's) manager
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(weight, bias);
            NDArray out = normed.mul(weight.reshape(affineShape)).add(bias.reshape(affineShape));
            out.attach(x.getManager());
            return out;
        }
    }

    private void checkInput(Shape shape) {
        if (shape.dimension() < 2) {
            throw new IllegalArgumentException(
                    "GroupNorm input must have shape (B, C, ...), got " + shape);
        }
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
