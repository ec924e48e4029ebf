package dfbmodels.models;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.initializer.XavierInitializer;
import dfbmodels.FeedbackBlock;
import dfbmodels.nn.Interpolation;
import dfbmodels.nn.NamedSequentialBlock;
import java.util.Arrays;

/**
 * The feedback DeepLabV3+ segmenter (SPEC §4), output stride 16.
 *
 * <ul>
 *   <li>frontend {@code encoder.conv1} 7×7/2, {@code encoder.bn1}, ReLU: {@code (B, Cin, H, W) ->
 *       (B, 64, H/2, W/2)};
 *   <li>body: max-pool 3/2, {@code encoder.layer1..4} ({@code layer1} takes {@code 64 + fb}
 *       channels, {@code layer4} stride 1 and dilation 2), DeepLabV3+ {@code decoder}: {@code ->
 *       (B, classFilters + fb, H/4, W/4)}, the state;
 *   <li>readout {@code segmentation_head}: 1×1 conv (classFilters → numClasses, with bias) on the
 *       class channels, ×4 bilinear upsampling (align_corners=True): {@code -> (B, numClasses, H,
 *       W)} logits.
 * </ul>
 *
 * <p>Both GroupNorms have one group per channel. Parameter names follow segmentation_models_pytorch
 * ({@code encoder.layer1.0.conv1.weight}, {@code decoder.aspp.0.convs.1.0.0.weight}, {@code
 * segmentation_head.0.bias}, ...). Input height and width must be multiples of 16.
 */
public final class DeepLabV3Plus {

    private DeepLabV3Plus() {}

    /**
     * Returns a new builder.
     *
     * @return a new builder; {@code setNumClasses} is required
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a feedback DeepLabV3+ as a {@link FeedbackBlock}. */
    public static final class Builder {

        private int numClasses = -1;
        private int fbFilters = 2;
        private int classFilters = 256;
        private float tau = 1f;
        private int iterations = 5;
        private float atol = 1e-2f;
        private int inChannels = 3;
        private boolean checkFinite;
        private ResidualBlockType blockType = ResidualBlockType.BASIC;
        private int[] layers = {2, 2, 2, 2};

        Builder() {}

        /**
         * Sets the number of segmentation classes (required).
         *
         * @param numClasses a positive number
         * @return this builder
         */
        public Builder setNumClasses(int numClasses) {
            this.numClasses = numClasses;
            return this;
        }

        /**
         * Sets the number of feedback channels (default 2).
         *
         * @param fbFilters a positive number
         * @return this builder
         */
        public Builder optFbFilters(int fbFilters) {
            this.fbFilters = fbFilters;
            return this;
        }

        /**
         * Sets the number of state channels read out by the head (default 256).
         *
         * @param classFilters a positive number
         * @return this builder
         */
        public Builder optClassFilters(int classFilters) {
            this.classFilters = classFilters;
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
         * Sets the default number of iterations T (default 5).
         *
         * @param iterations {@code >= 0}
         * @return this builder
         */
        public Builder optIterations(int iterations) {
            this.iterations = iterations;
            return this;
        }

        /**
         * Sets the early-stop tolerance (default {@code 1e-2}; {@code <= 0} disables it).
         *
         * @param atol the tolerance
         * @return this builder
         */
        public Builder optAtol(float atol) {
            this.atol = atol;
            return this;
        }

        /**
         * Rejects inputs holding NaN or infinite values (default false: the check costs a read back
         * to the host per forward).
         *
         * @param checkFinite true to check every input
         * @return this builder
         */
        public Builder optCheckFinite(boolean checkFinite) {
            this.checkFinite = checkFinite;
            return this;
        }

        /**
         * Sets the number of input channels (default 3).
         *
         * @param inChannels a positive number
         * @return this builder
         */
        public Builder optInChannels(int inChannels) {
            this.inChannels = inChannels;
            return this;
        }

        /**
         * Sets the encoder's residual blocks and layer counts (default BASIC, 2, 2, 2, 2).
         *
         * @param blockType the block type
         * @param layers four positive counts
         * @return this builder
         */
        public Builder optEncoder(ResidualBlockType blockType, int... layers) {
            this.blockType = blockType;
            this.layers = layers.clone();
            return this;
        }

        /**
         * Builds the model.
         *
         * @return the model, not yet initialised
         * @throws IllegalArgumentException if a setting is invalid
         */
        public FeedbackBlock build() {
            validate();
            int e = blockType.expansion();
            NamedSequentialBlock frontend =
                    new NamedSequentialBlock()
                            .add(
                                    "encoder",
                                    new NamedSequentialBlock()
                                            .add("conv1", Layers.conv(64, 7, 2, 3, 1))
                                            .add("bn1", Layers.batchNorm())
                                            .add("relu", Activation.reluBlock()));
            NamedSequentialBlock encoder = new NamedSequentialBlock();
            int[] planes = {64, 128, 256, 512};
            int inplanes = 64 + fbFilters;
            for (int i = 0; i < 4; i++) {
                int stride = i == 0 || i == 3 ? 1 : 2;
                int dilation = i == 3 ? 2 : 1;
                encoder.add(
                        "layer" + (i + 1),
                        Layers.makeLayer(
                                blockType, inplanes, planes[i], layers[i], stride, dilation));
                inplanes = planes[i] * e;
            }
            int out = classFilters + fbFilters;
            DeepLabBody body = new DeepLabBody(encoder, new DeepLabV3PlusDecoder(512 * e, out));
            Conv2d head =
                    Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(numClasses).build();
            head.setInitializer(
                    new XavierInitializer(
                            XavierInitializer.RandomType.UNIFORM,
                            XavierInitializer.FactorType.AVG,
                            3f),
                    ai.djl.nn.Parameter.Type.WEIGHT);
            SequentialBlock segmentationHead =
                    new SequentialBlock()
                            .add(head)
                            .add(
                                    new LambdaBlock(
                                            list -> {
                                                Shape s = list.head().getShape();
                                                return new NDList(
                                                        Interpolation.bilinear(
                                                                list.head(),
                                                                s.get(2) * 4,
                                                                s.get(3) * 4,
                                                                true));
                                            },
                                            "UpsamplingBilinear2d"));
            return FeedbackBlock.builder()
                    .setFrontend(frontend)
                    .setBody(body)
                    .setReadout(
                            new NamedSequentialBlock().add("segmentation_head", segmentationHead))
                    .setClassChannels(classFilters)
                    .setFeedbackChannels(fbFilters)
                    .optErrorGroups(out)
                    .optFeedbackGroups(fbFilters)
                    .optIterations(iterations)
                    .optAtol(atol)
                    .optTau(tau)
                    .optInChannels(inChannels)
                    .optSizeMultiple(16)
                    .optCheckFinite(checkFinite)
                    .build();
        }

        // iterations and tau are checked by FeedbackBlock.Builder and StateExpDecay
        private void validate() {
            if (numClasses < 1) {
                throw new IllegalArgumentException(
                        "numClasses must be set to a positive number (setNumClasses), got "
                                + numClasses);
            }
            if (fbFilters < 1) {
                throw new IllegalArgumentException("fbFilters must be positive, got " + fbFilters);
            }
            if (classFilters < 1) {
                throw new IllegalArgumentException(
                        "classFilters must be positive, got " + classFilters);
            }
            if (inChannels < 1) {
                throw new IllegalArgumentException(
                        "inChannels must be positive, got " + inChannels);
            }
            if (blockType == null
                    || layers == null
                    || layers.length != 4
                    || Arrays.stream(layers).anyMatch(n -> n < 1)) {
                throw new IllegalArgumentException(
                        "the encoder needs a block type and four positive block counts, got "
                                + blockType
                                + " "
                                + Arrays.toString(layers));
            }
        }
    }
}
